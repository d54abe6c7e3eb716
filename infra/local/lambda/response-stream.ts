/**
 * Lambda's Node.js response streaming, as the managed runtime provides it to handlers through the
 * `awslambda` global: `streamifyResponse` marks a handler as streaming, and
 * `HttpResponseStream.from` writes the HTTP integration prelude (JSON, then eight NUL bytes)
 * before the first byte of the body. Written after the runtime interface client's own
 * (aws-lambda-nodejs-runtime-interface-client: src/HttpResponseStream.js, src/UserFunction.js),
 * which is not a package a handler can import.
 */
import { Writable } from 'node:stream';

/** The runtime's mark on a streaming handler: `handler[HANDLER_STREAMING] === 'response'`. */
export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const STREAM_RESPONSE = 'response';
const METADATA_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER_LEN = 8;

type Write = (chunk: Uint8Array | string) => void;

/**
 * The stream a streaming handler writes to: every chunk goes to `send` at once (and the write
 * completes when it has gone), the content type rides on the first.
 */
export class ResponseStream extends Writable {
  private contentType: string | undefined;
  private started = false;
  /** Set by `HttpResponseStream.from`: writes the prelude before the first chunk. */
  _onBeforeFirstWrite: ((write: Write) => void) | undefined;

  constructor(
    private readonly send: (
      data: Uint8Array,
      contentType: string | undefined,
      done: (err?: Error | null) => void,
    ) => void,
  ) {
    super();
  }

  setContentType(contentType: string): void {
    if (this.started) throw new Error('Content type cannot be set after the first write');
    this.contentType = contentType;
  }

  /** Whether anything, even an empty body after a prelude, has been written. */
  get written(): boolean {
    return this.started;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    const parts: Uint8Array[] = [];
    this.begin(parts);
    parts.push(chunk);
    this.flush(parts, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    // A prelude with no body after it (`end()` with nothing written) still goes out.
    if (this.started) return done();
    const parts: Uint8Array[] = [];
    this.begin(parts);
    if (parts.length === 0) return done();
    this.flush(parts, done);
  }

  private begin(parts: Uint8Array[]): void {
    if (this.started) return;
    this.started = true;
    this._onBeforeFirstWrite?.((c) => parts.push(typeof c === 'string' ? Buffer.from(c) : c));
  }

  private flush(parts: Uint8Array[], done: (err?: Error | null) => void): void {
    const contentType = this.contentType;
    this.contentType = undefined;
    this.send(parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts), contentType, done);
  }
}

export const HttpResponseStream = {
  from(stream: ResponseStream, prelude: Record<string, unknown>): ResponseStream {
    stream.setContentType(METADATA_PRELUDE_CONTENT_TYPE);
    // JSON.stringify: a NUL byte is not allowed in the prelude, and JSON text never holds one.
    const metadata = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(DELIMITER_LEN));
    };
    return stream;
  },
};

export function streamifyResponse<T extends object>(handler: T): T {
  (handler as Record<symbol, unknown>)[HANDLER_STREAMING] = STREAM_RESPONSE;
  return handler;
}

export function isStreamingHandler(handler: object): boolean {
  return (handler as Record<symbol, unknown>)[HANDLER_STREAMING] === STREAM_RESPONSE;
}

/** Installs the `awslambda` global before the handler module loads, as Lambda's runtime does. */
export function installAwsLambdaGlobal(): void {
  (globalThis as Record<string, unknown>).awslambda = { streamifyResponse, HttpResponseStream };
}
