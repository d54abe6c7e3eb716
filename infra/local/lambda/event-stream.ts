/**
 * The framing of Lambda's InvokeWithResponseStream reply: AWS event-stream messages
 * (`application/vnd.amazon.eventstream`: prelude, headers, payload, CRCs), one `PayloadChunk`
 * per chunk the handler wrote and one `InvokeComplete` at the end. Encoded with the codec the
 * AWS SDK itself decodes them with (@smithy/core), so the real client parses them unchanged.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';

const codec = new EventStreamCodec(
  (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
  (text: string) => Buffer.from(text, 'utf8'),
);

function event(type: string, contentType: string, body: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: contentType },
      ':message-type': { type: 'string', value: 'event' },
    },
    body,
  });
}

/** One chunk of the function's response. */
export function payloadChunk(data: Uint8Array): Uint8Array {
  return event('PayloadChunk', 'application/octet-stream', data);
}

/** The end of the stream: an error code and details when the function failed, the log tail when asked. */
export function invokeComplete(end: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string }): Uint8Array {
  return event('InvokeComplete', 'application/json', Buffer.from(JSON.stringify(end)));
}
