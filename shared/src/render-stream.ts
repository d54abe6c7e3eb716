import { ERRORS, MarqueeError, isErrorCode, type ErrorCode } from './errors.js';

/**
 * The Generator's reply, as Lambda response streaming carries it: Lambda's own HTTP integration
 * prelude (`awslambda.HttpResponseStream.from`: a JSON document, eight NUL bytes), then the raw
 * image bytes. No base64, no JSON around the image; the same function could sit behind a
 * function URL unchanged.
 *
 * - success: status 200, `content-type` the image's, `content-length` its bytes, and the
 *   render's facts in `x-marquee-*` headers; the body is the image. A prewarm render
 *   (`store: true`) is stored before the prelude is written and streams no body
 *   (`content-length: 0`, `x-marquee-stored` names the object).
 * - failure: the coded error's status, `content-type: application/json`, and a body of
 *   `{ code, status, message }`.
 */

/** Lambda's content type for a stream that begins with an HTTP prelude. */
export const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** The eight NUL bytes between the prelude and the body. */
export const PRELUDE_DELIMITER_BYTES = 8;
/** Longest prelude accepted: a few headers, never kilobytes. */
export const MAX_PRELUDE_BYTES = 8192;
/**
 * Largest streamed response: Lambda's response streaming limit (200 MB since July 2025; the
 * first 6 MB at full speed, the rest at up to 2 MB/s). No output of ours comes near it.
 */
export const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;

export const RENDER_HEADERS = {
  width: 'x-marquee-width',
  height: 'x-marquee-height',
  fetchMs: 'x-marquee-fetch-ms',
  renderMs: 'x-marquee-render-ms',
  coldStart: 'x-marquee-cold-start',
  stored: 'x-marquee-stored',
} as const;

export interface RenderPrelude {
  statusCode: number;
  headers: Record<string, string>;
}

/** What a successful prelude says of the render that follows it. */
export interface RenderFacts {
  contentType: string;
  /** Bytes of the body that follows (0 for a prewarm render). */
  bytes: number;
  width: number;
  height: number;
  fetchMs: number;
  renderMs: number;
  coldStart: boolean;
  /** The object a prewarm render was written to. */
  stored?: string;
}

export interface RenderFailureBody {
  code: ErrorCode;
  status: number;
  message: string;
}

export function successPrelude(facts: RenderFacts): RenderPrelude {
  const headers: Record<string, string> = {
    'content-type': facts.contentType,
    'content-length': String(facts.bytes),
    [RENDER_HEADERS.width]: String(facts.width),
    [RENDER_HEADERS.height]: String(facts.height),
    [RENDER_HEADERS.fetchMs]: String(facts.fetchMs),
    [RENDER_HEADERS.renderMs]: String(facts.renderMs),
    [RENDER_HEADERS.coldStart]: String(facts.coldStart),
  };
  if (facts.stored !== undefined) headers[RENDER_HEADERS.stored] = facts.stored;
  return { statusCode: 200, headers };
}

export function failurePrelude(body: string, status: number): RenderPrelude {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
  };
}

export function failureBody(code: ErrorCode, message: string): string {
  const body: RenderFailureBody = { code, status: ERRORS[code].status, message };
  return JSON.stringify(body);
}

function integer(headers: Record<string, string>, name: string, min: number): number {
  const n = Number(headers[name]);
  if (!Number.isInteger(n) || n < min)
    throw new MarqueeError('GENERATOR_FAILED', `bad ${name} in the Generator's prelude`);
  return n;
}

function decimal(headers: Record<string, string>, name: string): number {
  const n = Number(headers[name] ?? 0);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** The facts of a 200 prelude; a malformed one is the Generator's fault (502). */
export function renderFacts(prelude: RenderPrelude): RenderFacts {
  const h = prelude.headers;
  const contentType = h['content-type'];
  if (typeof contentType !== 'string') throw new MarqueeError('GENERATOR_FAILED', 'no content-type in the prelude');
  const stored = h[RENDER_HEADERS.stored];
  return {
    contentType,
    bytes: integer(h, 'content-length', 0),
    width: integer(h, RENDER_HEADERS.width, 1),
    height: integer(h, RENDER_HEADERS.height, 1),
    fetchMs: decimal(h, RENDER_HEADERS.fetchMs),
    renderMs: decimal(h, RENDER_HEADERS.renderMs),
    coldStart: h[RENDER_HEADERS.coldStart] === 'true',
    ...(stored !== undefined ? { stored } : {}),
  };
}

/** A failure body, or undefined when it is not one of ours. */
export function parseFailureBody(bytes: Uint8Array): RenderFailureBody | undefined {
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<RenderFailureBody>;
    if (typeof value.code !== 'string' || !isErrorCode(value.code) || typeof value.message !== 'string')
      return undefined;
    return { code: value.code, status: ERRORS[value.code].status, message: value.message };
  } catch {
    return undefined;
  }
}

/**
 * Splits a response stream into its prelude and body, chunk by chunk, without copying the body
 * more than once: `push` each chunk as it arrives; `prelude` is set once the delimiter has been
 * seen, and the body collects what follows it.
 */
export class PreludeSplitter {
  prelude: RenderPrelude | undefined;
  private head: Buffer[] = [];
  private headBytes = 0;
  private readonly body: Buffer[] = [];
  bodyBytes = 0;

  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.prelude !== undefined) {
      this.body.push(buf);
      this.bodyBytes += buf.length;
      return;
    }
    this.head.push(buf);
    this.headBytes += buf.length;
    const joined = this.head.length === 1 ? buf : Buffer.concat(this.head);
    const end = delimiterAt(joined);
    if (end === -1) {
      if (this.headBytes > MAX_PRELUDE_BYTES)
        throw new MarqueeError('GENERATOR_FAILED', 'the Generator streamed no prelude');
      this.head = [joined];
      return;
    }
    this.prelude = parsePrelude(joined.subarray(0, end));
    this.head = [];
    const rest = joined.subarray(end + PRELUDE_DELIMITER_BYTES);
    if (rest.length > 0) {
      this.body.push(rest);
      this.bodyBytes += rest.length;
    }
  }

  /** The body so far, as one buffer (no copy when it arrived in one chunk). */
  bodyBuffer(): Buffer {
    return this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body, this.bodyBytes);
  }
}

/** Where the eight NUL bytes start, or -1. JSON text never holds a raw NUL. */
function delimiterAt(buf: Buffer): number {
  let from = 0;
  for (;;) {
    const at = buf.indexOf(0, from);
    if (at === -1 || at + PRELUDE_DELIMITER_BYTES > buf.length) return -1;
    let nuls = 1;
    while (nuls < PRELUDE_DELIMITER_BYTES && buf[at + nuls] === 0) nuls++;
    if (nuls === PRELUDE_DELIMITER_BYTES) return at;
    from = at + nuls;
  }
}

function parsePrelude(text: Buffer): RenderPrelude {
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch {
    throw new MarqueeError('GENERATOR_FAILED', 'the Generator streamed a prelude that is not JSON');
  }
  const p = value as Partial<RenderPrelude>;
  if (typeof p?.statusCode !== 'number' || typeof p.headers !== 'object' || p.headers === null)
    throw new MarqueeError('GENERATOR_FAILED', 'the Generator streamed a malformed prelude');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  return { statusCode: p.statusCode, headers };
}

/** The events of an InvokeWithResponseStream reply, as the AWS SDK yields them (structurally). */
export interface ResponseStreamEvent {
  PayloadChunk?: { Payload?: Uint8Array | undefined } | undefined;
  InvokeComplete?: { ErrorCode?: string | undefined; ErrorDetails?: string | undefined } | undefined;
}

/** A whole streamed reply, read to its `InvokeComplete`: for callers that need nothing sooner (the prewarm consumer). */
export async function collectRenderStream(
  events: AsyncIterable<ResponseStreamEvent>,
  maxBodyBytes: number,
): Promise<{ prelude: RenderPrelude; body: Buffer } | { functionError: string }> {
  const split = new PreludeSplitter();
  for await (const event of events) {
    if (event.PayloadChunk?.Payload !== undefined) {
      split.push(event.PayloadChunk.Payload);
      if (split.bodyBytes > maxBodyBytes) throw new MarqueeError('OUTPUT_TOO_LARGE', 'the streamed body is too large');
    }
    const code = event.InvokeComplete?.ErrorCode;
    if (code) return { functionError: `${code}: ${event.InvokeComplete?.ErrorDetails ?? ''}` };
  }
  if (split.prelude === undefined) throw new MarqueeError('GENERATOR_FAILED', 'the Generator streamed no prelude');
  return { prelude: split.prelude, body: split.bodyBuffer() };
}
