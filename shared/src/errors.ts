/**
 * The one error catalogue. Every failure Marquee reports has a stable `code`;
 * the HTTP status and the public title come from here and nowhere else.
 */
export const ERRORS = {
  // 400: the request itself is wrong.
  INVALID_SPEC: { status: 400, title: 'Invalid image spec' },
  INVALID_PARAMETER: { status: 400, title: 'Invalid parameter' },
  SIZE_NOT_ALLOWED: { status: 400, title: 'Size not allowed' },
  FORMAT_NOT_ALLOWED: { status: 400, title: 'Format not allowed' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  BAD_SIGNATURE: { status: 403, title: 'Bad signature' },
  SOURCE_NOT_ALLOWED: { status: 403, title: 'Source not allowed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  UNKNOWN_TYPE: { status: 404, title: 'Unknown artwork type' },
  UNKNOWN_TITLE: { status: 404, title: 'Unknown title' },
  ARTWORK_NOT_FOUND: { status: 404, title: 'Artwork not found' },
  SOURCE_NOT_FOUND: { status: 404, title: 'Source not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  SOURCE_TOO_LARGE: { status: 413, title: 'Source too large' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_IMAGE: { status: 415, title: 'Unsupported or invalid image' },
  THROTTLED: { status: 503, title: 'Throttled' },
  OVERLOADED: { status: 503, title: 'Overloaded' },
  INTERNAL: { status: 500, title: 'Internal error' },
  SOURCE_FETCH_FAILED: { status: 502, title: 'Source fetch failed' },
  GENERATOR_FAILED: { status: 502, title: 'Generator failed' },
  OUTPUT_TOO_LARGE: { status: 502, title: 'Output too large' },
  GENERATOR_UNAVAILABLE: { status: 503, title: 'Generator unavailable' },
  TIMEOUT: { status: 504, title: 'Timed out' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

export function statusOf(code: ErrorCode): number {
  return ERRORS[code].status;
}

/** problem+json `type` for a code: a URN, stable across hosts. */
export function problemType(code: ErrorCode): string {
  return `urn:marquee:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

export interface MarqueeErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (429/503). */
  retryAfter?: number;
  /** Extra public fields for the problem document (e.g. allowed sizes). */
  extra?: Record<string, unknown>;
}

/**
 * An error with a stable code. `message` is public: it must never carry a
 * stack, a path on disk or a secret. The underlying error goes in `cause`.
 */
export class MarqueeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: MarqueeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MarqueeError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryAfter = options.retryAfter;
    this.extra = options.extra;
  }
}

export function isMarqueeError(err: unknown): err is MarqueeError {
  return err instanceof MarqueeError;
}
