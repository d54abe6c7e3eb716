import { request as httpRequest, Agent } from 'node:http';
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { LINGER_BYTES, LINGER_MS } from '../src/plugins/client-error.js';
import { startHarness } from './studio/harness.js';

const h = await startHarness();
t.teardown(() => h.close());
await h.app.listen({ host: '127.0.0.1', port: 0 });
const { port } = h.app.server.address() as { port: number };

/** What the server read from each connection, by the client's port: taken when the server closes it. */
const serverRead = new Map<number, number>();
h.app.server.on('connection', (socket: Socket) => {
  const peer = socket.remotePort ?? 0;
  socket.on('close', () => serverRead.set(peer, socket.bytesRead));
});

const HUNDRED_MB = 100 * 1024 * 1024;
const ARTWORK = '/v1/artwork/boxshot/t1/342x513.jpg';
/**
 * What the server may read beyond its budget: the bytes Node's parser takes before the route
 * refuses (the request stream's high-water mark and a socket read or two) and the read that
 * crosses the budget.
 */
const SLACK = 256 * 1024;

interface Client {
  head: string;
  /** Body bytes the client sends after the head (it stops early only when the connection closes). */
  declared: number;
  /**
   * Whether the client keeps sending after the server's FIN, until the server closes (as the
   * hostile pass did), or ends its side on the FIN, as a Node socket does by default.
   */
  halfOpen: boolean;
}

interface Outcome {
  localPort: number;
  /** Everything the client read, as latin1. */
  raw: string;
  /** Milliseconds from the first reply byte to the close (-1: no reply). */
  lingered: number;
  /** The client's write or read error, if any (a reset after the reply is allowed). */
  error?: string;
}

/**
 * Clients as the hostile pass ran them, in a worker: another event loop, as a client is another
 * program (in this one, the server's close and the client's read would take turns politely).
 * Each writes its head and pipes a body of `declared` bytes into the socket as fast as it takes
 * them, reading whatever comes back but never stopping to look at it, until the server closes.
 */
const CLIENTS = `
const { parentPort, workerData } = require('node:worker_threads');
const { connect } = require('node:net');
const { Readable } = require('node:stream');

function streamedBody(declared) {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let made = 0;
  return new Readable({
    read() {
      if (made >= declared) return void this.push(null);
      const n = Math.min(chunk.length, declared - made);
      made += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

function run({ head, declared, halfOpen }) {
  return new Promise((resolve) => {
    const socket = connect({ port: workerData.port, host: '127.0.0.1', allowHalfOpen: halfOpen });
    const body = streamedBody(declared);
    const received = [];
    let localPort = 0;
    let replyAt = -1;
    let error;
    const guard = setTimeout(() => {
      error = 'no close within ' + workerData.guardMs + ' ms';
      socket.destroy();
    }, workerData.guardMs);
    socket.on('connect', () => (localPort = socket.localPort));
    socket.on('data', (d) => {
      if (replyAt < 0) replyAt = performance.now();
      received.push(d);
    });
    socket.on('error', (err) => (error ??= err.code || err.message));
    socket.on('close', () => {
      clearTimeout(guard);
      body.destroy();
      const outcome = { localPort, raw: Buffer.concat(received).toString('latin1') };
      outcome.lingered = replyAt < 0 ? -1 : performance.now() - replyAt;
      if (error !== undefined) outcome.error = error;
      resolve(outcome);
    });
    socket.write(head);
    body.pipe(socket);
  });
}

Promise.all(workerData.clients.map(run)).then((outcomes) => parentPort.postMessage(outcomes));
`;

function runClients(clients: Client[]): Promise<Outcome[]> {
  const worker = new Worker(CLIENTS, { eval: true, workerData: { port, clients, guardMs: LINGER_MS + 20_000 } });
  return new Promise((resolve, reject) => {
    worker.once('message', (outcomes: Outcome[]) => resolve(outcomes));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the client worker exited with ${code}`)));
  });
}

/** What the server read from the connection from `localPort`, once it has closed its side (undefined: it never did). */
async function readByServer(localPort: number): Promise<number | undefined> {
  for (let i = 0; i < 100 && !serverRead.has(localPort); i++) await new Promise((r) => setTimeout(r, 10));
  return serverRead.get(localPort);
}

interface Parsed {
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One whole HTTP/1.1 reply: status line, headers, and exactly Content-Length body bytes. */
function parseReply(text: string): Parsed | string {
  const raw = Buffer.from(text, 'latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return `no complete head in ${raw.length} bytes`;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length']);
  const body = raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (!Number.isInteger(length)) return `no Content-Length in ${statusLine}`;
  if (body.length !== length) return `${statusLine}: ${body.length} of ${length} body bytes`;
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') };
}

const declaring = (method: string, url: string, extra = '') =>
  `${method} ${url} HTTP/1.1\r\nHost: x\r\n${extra}Content-Length: ${HUNDRED_MB}\r\n\r\n`;

/** Each refusal a request with a large body meets: by route, by router, by body parser, by Node's parser. */
const CASES = [
  { name: 'PATCH artwork', head: declaring('PATCH', ARTWORK), status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'POST render', head: declaring('POST', '/v1/render?w=1'), status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'PUT artwork', head: declaring('PUT', ARTWORK), status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'POST unknown path', head: declaring('POST', '/nowhere'), status: 404, code: 'NOT_FOUND' },
  {
    name: 'chunked PATCH render',
    head: `PATCH /v1/render HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${HUNDRED_MB.toString(16)}\r\n`,
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'oversized sign-in form',
    head: declaring('POST', '/studio/session', 'Content-Type: application/x-www-form-urlencoded\r\n'),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  // Node's parser refuses a header that never ends (431) before Fastify sees the request.
  {
    name: 'endless header',
    head: 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ',
    status: 431,
    code: 'INVALID_PARAMETER',
  },
];

/** Ordinary keep-alive GETs, one after another on a few connections, until `stop` says so. */
async function ordinaryTraffic(stop: () => boolean): Promise<{ ok: number; failed: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 3 });
  const failed: string[] = [];
  let ok = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const body = Buffer.concat(parts).toString();
          if (res.statusCode === 200 && body.includes('"ok"')) ok++;
          else failed.push(`${res.statusCode} ${body}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        failed.push(err.message);
        resolve();
      });
      req.end();
    });
  const lane = async () => {
    // At least a few requests each, and as many as fit while the refused clients are sending.
    for (let i = 0; i < 5 || !stop(); i++) await one();
  };
  await Promise.all([lane(), lane(), lane()]);
  agent.destroy();
  return { ok, failed };
}

t.test('refused requests that keep sending a large body all get their whole reply', async (t) => {
  const SOCKETS = 21;
  let done = false;
  const traffic = ordinaryTraffic(() => done);
  const cases = Array.from({ length: SOCKETS }, (_, i) => CASES[i % CASES.length]!);
  // Every other client keeps sending after the FIN: each case meets both kinds over the rounds.
  const clients = cases.map((c, i) => ({ head: c.head, declared: HUNDRED_MB, halfOpen: i % 2 === 0 }));
  const outcomes = await runClients(clients);
  done = true;
  const { ok, failed } = await traffic;

  for (const [i, o] of outcomes.entries()) {
    const c = cases[i]!;
    const { halfOpen } = clients[i]!;
    const label = `#${i} ${c.name}${halfOpen ? ', sending past the FIN' : ''}`;
    const reply = parseReply(o.raw);
    if (typeof reply === 'string') {
      t.fail(`${label}: no whole reply (${reply}; client saw ${o.error ?? 'a clean close'})`);
      continue;
    }
    t.equal(reply.status, c.status, `${label}: ${reply.statusLine}`);
    t.match(reply.headers['content-type'], /^application\/problem\+json/, `${label}: problem+json`);
    t.equal(reply.headers.connection, 'close', `${label}: Connection: close`);
    if (c.status === 405) t.equal(reply.headers.allow, 'GET, HEAD', `${label}: Allow`);
    const problem = JSON.parse(reply.body) as { status: number; type: string; code: string };
    t.equal(problem.status, c.status, `${label}: the problem's status`);
    t.equal(problem.code, c.code, `${label}: the problem's code`);
    // Nobody sends 100 MB within the budget: the server stops reading, and a client that goes on
    // sending is closed at LINGER_MS (one that ends its side on the FIN closes sooner).
    if (halfOpen) {
      t.ok(
        o.lingered >= LINGER_MS / 2 && o.lingered <= LINGER_MS + 3000,
        `${label}: closed ${Math.round(o.lingered)} ms after the reply (linger ${LINGER_MS} ms)`,
      );
    } else {
      t.ok(o.lingered <= LINGER_MS + 3000, `${label}: closed ${Math.round(o.lingered)} ms after the reply`);
    }
    const read = await readByServer(o.localPort);
    t.ok(read !== undefined, `${label}: the server closed its side`);
    t.ok(
      (read ?? Infinity) <= c.head.length + LINGER_BYTES + SLACK,
      `${label}: the server read ${read} bytes (budget ${LINGER_BYTES} + ${SLACK} slack)`,
    );
  }
  t.same(failed, [], 'no ordinary request failed');
  t.ok(ok >= 15, `${ok} ordinary requests succeeded alongside`);
});

t.test('a refused body the client finishes within the budget is read whole and the close is clean', async (t) => {
  const size = Math.floor(LINGER_BYTES / 2);
  const [o] = await runClients([
    { head: `PATCH ${ARTWORK} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`, declared: size, halfOpen: true },
  ]);
  if (o === undefined) return t.fail('no outcome');
  const reply = parseReply(o.raw);
  if (typeof reply === 'string') return t.fail(reply);
  t.equal(reply.status, 405);
  t.equal(o.error, undefined, 'no reset: the server read everything the client sent before it closed');
  t.ok(o.lingered < LINGER_MS, `closed ${Math.round(o.lingered)} ms after the reply, once the body was in`);
});

t.test('the server still serves keep-alive requests afterwards', async (t) => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  t.equal(res.status, 200);
});
