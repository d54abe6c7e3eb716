import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { problemType } from '@marquee/shared';

/**
 * Requests Node refuses before Fastify sees them (a 70 KB URL, a malformed request line) still
 * get a problem+json reply, never a bare socket reset or a text page.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (socket.destroyed || !socket.writable) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const code = status === 408 ? 'TIMEOUT' : 'INVALID_PARAMETER';
  const body = JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail: status === 431 ? 'The request line or headers are too large.' : 'The request could not be parsed.',
    code,
  });
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\n` +
      'Content-Type: application/problem+json; charset=utf-8\r\n' +
      'Cache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
