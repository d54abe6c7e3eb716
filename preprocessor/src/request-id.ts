import { randomUUID } from 'node:crypto';

/** Request ids from upstream (the CDN, a load balancer) are kept when they look like ids. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the upstream `x-request-id` when it looks like one, else a new UUID. */
export function requestId(upstream: string | string[] | undefined): string {
  return typeof upstream === 'string' && REQUEST_ID.test(upstream) ? upstream : randomUUID();
}
