import { Writable } from 'node:stream';
import {
  PreludeSplitter,
  parseFailureBody,
  renderFacts,
  type RenderFacts,
  type RenderFailureBody,
  type RenderPrelude,
} from '@marquee/shared';
import type { ResponseStream, StreamingGenerator } from '../../src/handler.js';

/**
 * The response stream a test hands the handler, as Lambda's runtime would: a Writable with
 * `setContentType`, recording the content type and every byte written.
 */
export class CollectedStream extends Writable implements ResponseStream {
  contentType: string | undefined;
  readonly chunks: Buffer[] = [];

  setContentType(contentType: string): void {
    // Lambda's stream refuses it once bytes have gone out.
    if (this.chunks.length > 0) throw new Error('content type set after the first write');
    this.contentType = contentType;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** One invocation as its caller sees it: the prelude, then the facts of a 200 or the failure body. */
export interface Reply {
  /** The stream's content type (Lambda's HTTP-integration type when there is a prelude). */
  contentType: string | undefined;
  prelude: RenderPrelude;
  /** The facts of a 200 prelude, else undefined. */
  facts: RenderFacts | undefined;
  /** The `{ code, status, message }` body of a failure, else undefined. */
  failure: RenderFailureBody | undefined;
  /** The bytes after the prelude: the image, or the failure's JSON. */
  body: Buffer;
  /** The stream the handler wrote to (ended once the handler has resolved). */
  stream: CollectedStream;
}

/**
 * Runs the handler with a collecting stream and reads its reply (`readReply`), as the Preprocessor
 * would, once the handler has resolved.
 */
export async function invoke(
  handler: StreamingGenerator,
  event: unknown,
  context?: { awsRequestId: string },
  stream = new CollectedStream(),
): Promise<Reply> {
  await handler(event, stream, context);
  return readReply(stream);
}

/**
 * Splits what a handler wrote with `PreludeSplitter`. Throws when the wire contract is broken:
 * the stream not ended, no prelude, or a content-length that is not the body's length.
 */
export function readReply(stream: CollectedStream): Reply {
  if (!stream.writableFinished) throw new Error('the handler resolved without ending its stream');
  const split = new PreludeSplitter();
  for (const chunk of stream.chunks) split.push(chunk);
  const { prelude } = split;
  if (prelude === undefined) throw new Error('the handler streamed no prelude');
  const body = split.bodyBuffer();
  if (prelude.headers['content-length'] !== String(body.length))
    throw new Error(`content-length ${prelude.headers['content-length']} but ${body.length} body bytes`);
  const ok = prelude.statusCode === 200;
  return {
    contentType: stream.contentType,
    prelude,
    facts: ok ? renderFacts(prelude) : undefined,
    failure: ok ? undefined : parseFailureBody(body),
    body,
    stream,
  };
}

/** A success's facts, or a throw naming the failure (for tests that expect a render). */
export function factsOf(reply: Reply): RenderFacts {
  if (reply.facts === undefined)
    throw new Error(`expected a render, got ${reply.prelude.statusCode} ${reply.body.toString('utf8')}`);
  return reply.facts;
}
