/** How a reply counts. Shedding (429/503 with Retry-After) is kept apart from errors. */
export type StatusClass =
  'ok' | 'notModified' | 'redirect' | 'shed' | 'clientError' | 'serverError' | 'networkError' | 'dropped';

export const STATUS_CLASSES: readonly StatusClass[] = [
  'ok',
  'notModified',
  'redirect',
  'shed',
  'clientError',
  'serverError',
  'networkError',
  'dropped',
];

/** Classes that count as errors: neither a success nor an explicit "come back later". */
export const ERROR_CLASSES: readonly StatusClass[] = ['clientError', 'serverError', 'networkError'];

export function classifyStatus(status: number, hasRetryAfter: boolean): StatusClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 304) return 'notModified';
  if (status >= 300 && status < 400) return 'redirect';
  if ((status === 503 || status === 429) && hasRetryAfter) return 'shed';
  if (status >= 400 && status < 500) return 'clientError';
  return 'serverError';
}
