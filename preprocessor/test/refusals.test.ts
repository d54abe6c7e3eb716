import { connect } from 'node:net';
import t from 'tap';
import { startHarness } from './studio/harness.js';

const h = await startHarness();
t.teardown(() => h.close());
await h.app.listen({ host: '127.0.0.1', port: 0 });
const { port } = h.app.server.address() as { port: number };

interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection. */
  closed: boolean;
  /** Body bytes the client had written when the reply (or the close) came. */
  sent: number;
}

/**
 * Sends a request head, then body bytes in 64 KiB chunks for as long as the server lets it (up
 * to `declared`), and collects the reply. A server that drains refused bodies reads them all;
 * one that refuses properly answers and closes after the first few chunks.
 */
function exchange(head: string, declared: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let sentAtReply = -1;
    let raw = '';
    let closed = false;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply and no close within 20 s (sent ${sent} bytes)`));
    }, 20_000);
    const pump = () => {
      while (sent < declared && sentAtReply < 0 && !socket.destroyed) {
        const n = Math.min(chunk.length, declared - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return socket.once('drain', pump);
      }
    };
    socket.on('connect', () => {
      socket.write(head);
      pump();
    });
    socket.on('data', (d) => {
      if (sentAtReply < 0) sentAtReply = sent;
      raw += d.toString('latin1');
    });
    socket.on('error', () => {
      closed = true;
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(guard);
      const [headText = '', body = ''] = raw.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = headText.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(' ')[1] ?? 0),
        headers,
        body,
        closed,
        sent: sentAtReply < 0 ? sent : sentAtReply,
      });
    });
    // A reply with keep-alive leaves the socket open: end our side once the reply is in.
    socket.on('data', () => {
      setTimeout(() => {
        if (!socket.destroyed && /\r\n\r\n/.test(raw)) socket.end();
      }, 500).unref();
    });
  });
}

const HUNDRED_MB = 100 * 1024 * 1024;
const ARTWORK = '/v1/artwork/boxshot/t1/342x513.jpg';

t.test('a refused request that declares a large body is answered and closed, its body never read', async (t) => {
  const cases = [
    {
      name: 'POST artwork',
      head: `POST ${ARTWORK} HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUNDRED_MB}\r\n\r\n`,
      status: 405,
    },
    {
      name: 'PUT render',
      head: `PUT /v1/render?w=1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUNDRED_MB}\r\n\r\n`,
      status: 405,
    },
    {
      name: 'POST unknown path',
      head: `POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: ${HUNDRED_MB}\r\n\r\n`,
      status: 404,
    },
    {
      name: 'chunked POST artwork',
      head: `POST ${ARTWORK} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${HUNDRED_MB.toString(16)}\r\n`,
      status: 405,
    },
  ];
  for (const c of cases) {
    const res = await exchange(c.head, HUNDRED_MB);
    t.equal(res.status, c.status, `${c.name}: status`);
    t.match(res.headers['content-type'], /problem\+json/, `${c.name}: problem+json`);
    t.equal(res.headers.connection, 'close', `${c.name}: Connection: close`);
    t.ok(res.closed, `${c.name}: the server closed the connection`);
    t.ok(res.sent < 16 * 1024 * 1024, `${c.name}: answered after ${res.sent} of ${HUNDRED_MB} body bytes`);
    if (c.status === 405) t.equal(res.headers.allow, 'GET, HEAD', `${c.name}: Allow`);
  }
});

t.test('every other method on the artwork and render routes is a 405 with Allow', async (t) => {
  for (const method of ['TRACE', 'PROPFIND', 'PURGE', 'LOCK', 'SEARCH', 'DELETE', 'OPTIONS', 'PATCH']) {
    for (const url of [ARTWORK, '/v1/render?w=1&h=1']) {
      const res = await exchange(`${method} ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 0);
      t.equal(res.status, 405, `${method} ${url}`);
      t.equal(res.headers.allow, 'GET, HEAD', `${method} ${url}: Allow`);
      t.match(res.headers['content-type'], /problem\+json/, `${method} ${url}: problem+json`);
    }
  }
});

t.test('CONNECT gets a problem+json refusal or a clean close, never a hang', async (t) => {
  const res = await exchange('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 0);
  t.ok(res.closed, 'closed');
  if (res.status !== 0) {
    t.ok(res.status === 400 || res.status === 405, `status ${res.status}`);
    t.match(res.headers['content-type'], /problem\+json/);
  }
});

t.test('the server keeps serving after all of that', async (t) => {
  const res = await exchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 0);
  t.equal(res.status, 200);
});
