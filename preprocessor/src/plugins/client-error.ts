import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { problemType } from '@marquee/shared';

/**
 * How long a refused connection stays open after its reply while the client may still be
 * sending a body nobody will read. A client busy writing needs the reply to arrive, and a turn of
 * its own loop to read it, before the reset that closing on unread bytes provokes: a few round
 * trips, even on a slow mobile link. Short, because each lingering client holds a socket and a
 * timer, and one that never stops sending gains nothing by waiting. (nginx lingers up to 30 s.)
 */
export const LINGER_MS = 2_000;

/**
 * How much a refused connection is read, and thrown away, in that time: about what a client
 * still has in flight when the reply reaches it (its socket's send buffer and the path), so that
 * a client that stops sending, or whose body ends within it, is closed cleanly rather than
 * reset. Past it the server stops reading: the client's writes stall, it can still read the
 * reply, and the close comes at LINGER_MS. It bounds what a flood of refused bodies costs the
 * parser: this much per connection, however much each declares.
 */
export const LINGER_BYTES = 1024 * 1024;

/** The connections refused by `clientErrorHandler`, each with what had been read from it then. */
const refused = new WeakMap<Socket, number>();

/** The requests whose connection closes lingering. */
const lingering = new WeakSet<IncomingMessage>();

/** Destroys `socket` once what was written to it is flushed (the reply, then the FIN). */
function destroyWhenFlushed(socket: Socket): void {
  if (socket.writableFinished) socket.destroy();
  else socket.once('finish', () => socket.destroy());
}

/**
 * The second half of a lingering close, once the reply is written: half-close (FIN after the
 * reply), keep the connection for LINGER_MS, then destroy it. Whoever reads the socket discards
 * what arrives and stops reading at LINGER_BYTES.
 */
function linger(socket: Socket): void {
  if (socket.writable) socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Makes the close of `req`'s connection a lingering one, as nginx's `lingering_close` does, for
 * a reply sent with `Connection: close` before the request body was read (a 405, 404, 401, 413 …).
 *
 * Node ends such a reply with `socket.destroySoon()`: end the write side, and destroy the socket
 * as soon as that is flushed, a millisecond later. With the client's bytes still unread, the
 * kernel answers them with a reset; a client still writing then fails its next write (EPIPE,
 * ECONNRESET) and, as Node's clients do, drops the socket with the reply unread in it.
 *
 * So from the refusal on, the rest of the body is read and discarded, up to LINGER_BYTES (then
 * reading stops), and this socket's `destroySoon` half-closes and keeps the connection until the
 * body has ended (nothing is left unread: a clean close), the client closes, or LINGER_MS.
 */
export function lingerAfterReply(req: IncomingMessage): void {
  const socket = req.socket;
  // `app.inject()` hands Fastify a stand-in for the socket: no connection, nothing to linger on.
  if (!(socket instanceof Socket) || socket.destroyed || req.complete || lingering.has(req)) return;
  lingering.add(req);
  let replied = false;
  const start = socket.bytesRead;
  const discard = (): void => {
    if (socket.bytesRead - start < LINGER_BYTES) return;
    req.removeListener('data', discard);
    // Both: a flowing request would resume the socket the next time its buffer empties.
    req.pause();
    socket.pause();
  };
  // Reading it now also keeps Node from dumping the request when the reply ends: a dumped
  // request drops its body without a 'data' event, so nothing could count it.
  req.on('data', discard);
  req.once('end', () => {
    if (replied) destroyWhenFlushed(socket);
  });
  req.resume();
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    replied = true;
    // The body ended before the reply did, or this is a later request's close: nothing is unread.
    if (req.complete || this.destroyed) Socket.prototype.destroySoon.call(this);
    else linger(this);
  };
}

/**
 * Requests Node refuses before Fastify sees them (a 70 KB URL, a malformed request line) still
 * get a problem+json reply, never a bare socket reset or a text page, and a lingering close (see
 * `lingerAfterReply`): the client may still be sending the rest of its headers or its body.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (socket.destroyed) return;
  const start = refused.get(socket);
  if (start !== undefined) {
    // Node's parser stays failed and refuses every later read again: each call is one more read
    // discarded. Past the budget, stop reading; the linger's timer closes the connection.
    if (socket.bytesRead - start >= LINGER_BYTES) socket.pause();
    return;
  }
  if (!socket.writable) return;
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
  refused.set(socket, socket.bytesRead);
  socket.write(
    `HTTP/1.1 ${status} ${title}\r\n` +
      'Content-Type: application/problem+json; charset=utf-8\r\n' +
      'Cache-Control: no-store\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  linger(socket);
}
