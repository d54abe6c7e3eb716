import {
  failureBody,
  failurePrelude,
  parseGeneratorRequest,
  PRELUDE_DELIMITER_BYTES,
  statusOf,
  successPrelude,
  type ErrorCode,
  type GeneratorRequest,
  type RenderPrelude,
} from '@marquee/shared';

/**
 * What a Lambda client double answers for one Generator invocation, in the shape the real
 * InvokeWithResponseStream reply has once the SDK has parsed it: an event stream of
 * `PayloadChunk`s (Lambda's HTTP prelude, then the raw bytes) and one `InvokeComplete`. Only AWS
 * itself cannot run here; the real endpoint and Generator are tested in infra/local/test.
 */
export type DoubleReply =
  | {
      ok: true;
      contentType: string;
      width: number;
      height: number;
      body: Buffer;
      fetchMs?: number;
      renderMs?: number;
      coldStart?: boolean;
      stored?: string;
    }
  | { ok: false; code: ErrorCode; message: string }
  /** The function failed (crashed, timed out): InvokeComplete carries the error, after `chunks` if any. */
  | { functionError: string; details?: string; chunks?: Uint8Array[] };

export interface StreamEvent {
  PayloadChunk?: { Payload: Uint8Array };
  InvokeComplete?: { ErrorCode?: string; ErrorDetails?: string };
}

/** A prelude as Lambda's `HttpResponseStream.from` writes it. */
export function preludeBytes(prelude: RenderPrelude): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(PRELUDE_DELIMITER_BYTES)]);
}

export function replyChunks(reply: DoubleReply): { chunks: Uint8Array[]; complete: StreamEvent['InvokeComplete'] } {
  if ('functionError' in reply)
    return {
      chunks: reply.chunks ?? [],
      complete: { ErrorCode: reply.functionError, ErrorDetails: reply.details ?? reply.functionError },
    };
  if (!reply.ok) {
    const body = failureBody(reply.code, reply.message);
    return { chunks: [preludeBytes(failurePrelude(body, statusOf(reply.code))), Buffer.from(body)], complete: {} };
  }
  const prelude = successPrelude({
    contentType: reply.contentType,
    bytes: reply.stored !== undefined ? 0 : reply.body.length,
    width: reply.width,
    height: reply.height,
    fetchMs: reply.fetchMs ?? 0,
    renderMs: reply.renderMs ?? 0,
    coldStart: reply.coldStart ?? false,
    ...(reply.stored !== undefined ? { stored: reply.stored } : {}),
  });
  const body = reply.stored !== undefined ? [] : [reply.body];
  return { chunks: [preludeBytes(prelude), ...body], complete: {} };
}

/**
 * The SDK-shaped output of InvokeWithResponseStream for `reply`. `afterReply` runs once the last
 * chunk has been read and before `InvokeComplete` is given: where the Generator's PUT happens.
 */
export function streamedOutput(
  reply: DoubleReply,
  afterReply?: () => Promise<void>,
): { StatusCode: number; ResponseStreamContentType: string; EventStream: AsyncIterable<StreamEvent> } {
  const { chunks, complete } = replyChunks(reply);
  async function* events(): AsyncGenerator<StreamEvent> {
    for (const chunk of chunks) yield { PayloadChunk: { Payload: chunk } };
    await afterReply?.();
    yield { InvokeComplete: complete ?? {} };
  }
  return {
    StatusCode: 200,
    ResponseStreamContentType: 'application/vnd.awslambda.http-integration-response',
    EventStream: events(),
  };
}

/** The Generator request a command carries. */
export function requestOf(command: { input: object }): GeneratorRequest {
  const payload = (command.input as { Payload?: Uint8Array | string }).Payload;
  const text = typeof payload === 'string' ? payload : Buffer.from(payload ?? new Uint8Array()).toString('utf8');
  return parseGeneratorRequest(JSON.parse(text));
}

/** Whether a command is a DryRun (the readiness probe's). */
export function isDryRun(command: { input: object }): boolean {
  return (command.input as { InvocationType?: string }).InvocationType === 'DryRun';
}
