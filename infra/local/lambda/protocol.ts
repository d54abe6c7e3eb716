/** IPC messages between the endpoint and an execution environment (`runtime.ts`). */

/** Lambda's function error document: what the caller reads as the payload of a failed invocation. */
export interface FunctionErrorBody {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvokeMessage {
  type: 'invoke';
  requestId: string;
  /** The request payload as the caller sent it (JSON text). */
  payload: string;
  /** Wall-clock deadline (epoch ms) for `context.getRemainingTimeInMillis()`. */
  deadline: number;
  invokedFunctionArn: string;
}

export type ParentMessage = InvokeMessage;

/**
 * Written on the environment's stdout after an invocation's last line, before its result is sent:
 * stdout and the IPC channel are separate pipes, and the parent waits for this line so that the
 * invocation's log (LogType Tail, the log stream) holds everything the handler wrote, as Lambda's does.
 * Never passed through.
 */
export const LOG_END_MARK = '\u0000marquee-log-end ';

/**
 * A streaming handler's bytes (`awslambda.streamifyResponse`), in the order it wrote them; the
 * first carries the content type the handler set, if any. The invocation still ends with its
 * `result` (payload empty) or `error`, once the handler has settled.
 */
export interface ChunkMessage {
  type: 'chunk';
  requestId: string;
  data: Uint8Array;
  contentType?: string;
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'init-error'; error: FunctionErrorBody }
  | ChunkMessage
  | { type: 'result'; requestId: string; payload: string }
  | { type: 'error'; requestId: string; error: FunctionErrorBody };

export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
