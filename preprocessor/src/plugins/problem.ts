import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, isMarqueeError, problemType, type ErrorCode } from '@marquee/shared';
import { lingerAfterReply } from './client-error.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  [extra: string]: unknown;
}

/** Maps Fastify's own 4xx errors (body too large, bad content type…) onto the catalogue. */
function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'BAD_SIGNATURE';
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_IMAGE';
  if (status === 429 || status === 503) return 'OVERLOADED';
  if (status === 504) return 'TIMEOUT';
  if (status >= 400 && status < 500) return 'INVALID_PARAMETER';
  return 'INTERNAL';
}

/**
 * Sends a problem+json reply. Errors are never cacheable for long: a CDN must not pin a
 * failure for a year. 404s may be cached briefly (the title may appear soon).
 */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  options: { status?: number; retryAfter?: number | undefined; extra?: Record<string, unknown> | undefined } = {},
): FastifyReply {
  const status = options.status ?? ERRORS[code].status;
  const body: Problem = {
    ...options.extra,
    type: problemType(code),
    title: ERRORS[code].title,
    status,
    detail,
    code,
    instance: request.id,
  };
  reply.code(status);
  reply.header('content-type', 'application/problem+json; charset=utf-8');
  reply.header('cache-control', status === 404 ? 'public, max-age=60' : 'no-store');
  reply.header('x-content-type-options', 'nosniff');
  // Headers that described the image that was going to be served do not describe this reply.
  for (const name of ['etag', 'vary', 'x-artwork-locale', 'x-artwork-size', 'x-cache', 'content-disposition']) {
    reply.removeHeader(name);
  }
  if (options.retryAfter !== undefined) reply.header('retry-after', String(options.retryAfter));
  // A refusal before the body was read (405, 404, 401, 413 …): close rather than let Node drain
  // what the client declared, which may be 100 MB that nobody will look at, and close lingering,
  // so that a client still sending reads this reply rather than a reset.
  if (!request.raw.complete) {
    reply.header('connection', 'close');
    lingerAfterReply(request.raw);
  }
  return reply.send(body);
}

/** The one place errors become HTTP: coded errors keep their status, anything else is a 500 without detail. */
export const problemPlugin = fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      if (isMarqueeError(err)) {
        const cause = err.cause instanceof Error ? err.cause.message : undefined;
        // Shedding (a 503 with Retry-After) is the design working under a spike, not a fault: warn, no stack.
        if (err.status >= 500 && err.retryAfter === undefined) request.log.error({ err, code: err.code }, err.message);
        else if (err.status >= 500) request.log.warn({ code: err.code, cause }, err.message);
        else request.log.info({ code: err.code, cause }, err.message);
        return sendProblem(request, reply, err.code, err.message, { retryAfter: err.retryAfter, extra: err.extra });
      }
      if (err.validation) {
        request.log.info({ code: 'INVALID_PARAMETER' }, err.message);
        return sendProblem(request, reply, 'INVALID_PARAMETER', err.message);
      }
      const status =
        typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status < 500) {
        request.log.info({ code: err.code }, err.message);
        return sendProblem(request, reply, codeForStatus(status), err.message, { status });
      }
      request.log.error({ err }, 'unhandled error');
      return sendProblem(request, reply, 'INTERNAL', 'Internal error; the request id names it in the logs.', {
        status,
      });
    });

    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        request,
        reply,
        'NOT_FOUND',
        `No route for ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}`,
      ),
    );
  },
  { fastify: '5.x', name: 'marquee-problem' },
);
