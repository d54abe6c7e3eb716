import t from 'tap';
import { MarqueeError, type Source } from '@marquee/shared';
import { generate, publicAddressesOnly, type AddressPolicy, type ConfigOptions } from '../src/index.js';
import { makeRequest, testDeps } from './helpers/deps.js';
import { startHttp } from './helpers/http.js';
import { photoJpeg } from './helpers/images.js';

const jpeg = await photoJpeg(640, 360);

// The SSRF target: a real server on loopback that must never see a request.
const target = await startHttp(t, '127.0.0.1', (_req, res) => res.end(jpeg));

// The allowed origin lives on 127.0.0.2 (also loopback on Linux); tests that
// need to reach it inject a policy allowing exactly that address, never 127.0.0.1.
let slowResponses = 0;
let streamClosedEarly = false;
const origin = await startHttp(t, '127.0.0.2', (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const to = url.searchParams.get('to');
  switch (url.pathname) {
    case '/image.jpg':
      res.writeHead(200, { 'content-type': 'text/plain' }); // the type is ignored: bytes decide
      res.end(jpeg);
      return;
    case '/redirect':
      res.writeHead(302, { location: to ?? '/image.jpg' });
      res.end();
      return;
    case '/hops': {
      const n = Number(url.searchParams.get('n') ?? '0');
      res.writeHead(301, { location: n > 1 ? `/hops?n=${n - 1}` : '/image.jpg' });
      res.end();
      return;
    }
    case '/declared-large':
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write(jpeg.subarray(0, 100));
      return; // never finishes: the client must give up on the header alone
    case '/stream-large': {
      // Chunked, no Content-Length: 100 × 64 KiB unless the client hangs up.
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 0xab);
      res.on('close', () => {
        if (sent < 100) streamClosedEarly = true;
      });
      const pump = () => {
        while (sent < 100 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    case '/slow':
      slowResponses++;
      return; // never answers
    case '/error':
      res.writeHead(500);
      res.end();
      return;
    default:
      res.writeHead(404);
      res.end();
  }
});

const onlyOrigin: AddressPolicy = (address) => address === '127.0.0.2';
const mappedLoopback = new URL('http://[::ffff:127.0.0.1]/').hostname;
const hostsForAttacks = ['127.0.0.1', '127.0.0.2', '169.254.169.254', '[::1]', mappedLoopback, 'localhost', '[::]', '0.0.0.0'];

function deps(policy: AddressPolicy, options: ConfigOptions = {}) {
  return testDeps(undefined, { httpAllowedHosts: new Set(hostsForAttacks), fetchTimeoutMs: 2000, ...options }, { addressPolicy: policy });
}

async function codeFor(url: string, d = deps(publicAddressesOnly)): Promise<string> {
  const source: Source = { url };
  try {
    await generate(makeRequest(source), d);
    return 'OK';
  } catch (err) {
    return err instanceof MarqueeError ? err.code : `not a MarqueeError: ${String(err)}`;
  }
}

t.test('an allowed origin renders; Content-Type is ignored', async (t) => {
  const out = await generate(makeRequest({ url: `${origin.url}/image.jpg` }), deps(onlyOrigin));
  t.match(out, { ok: true, width: 320, height: 180, contentType: 'image/webp' });
  t.equal(await codeFor(`${origin.url}/hops?n=3`, deps(onlyOrigin)), 'OK', 'three redirect hops are followed');
  t.equal(await codeFor(`${origin.url}/hops?n=4`, deps(onlyOrigin)), 'SOURCE_FETCH_FAILED', 'a fourth hop is refused');
});

t.test('SSRF attempts are refused before any request reaches the target', async (t) => {
  const port = target.port;
  const attacks = [
    `http://127.0.0.1:${port}/`,
    `http://2130706433:${port}/`, // 127.0.0.1 spelled as one decimal number
    `http://0x7f.1:${port}/`, // and in hex shorthand
    `http://169.254.169.254/latest/meta-data/`,
    `http://[::1]:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::]:${port}/`,
    `http://0.0.0.0:${port}/`,
    `http://localhost:${port}/`, // a DNS name that resolves to loopback
    `http://not-allowed.example:${port}/`, // not in the host allowlist
    `${origin.url}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${port}/`)}`,
    `${origin.url}/redirect?to=${encodeURIComponent(`http://localhost:${port}/`)}`,
    `${origin.url}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`,
  ];
  for (const url of attacks) {
    // The origin is reachable (for the redirect cases); loopback 127.0.0.1 never is.
    t.equal(await codeFor(url, deps((a, f) => onlyOrigin(a, f) || publicAddressesOnly(a, f))), 'SOURCE_NOT_ALLOWED', url);
  }
  t.equal(target.requests.length, 0, 'the target saw no request');
});

t.test('HTTP sources are refused when no host is allowlisted', async (t) => {
  t.equal(await codeFor(`${origin.url}/image.jpg`, deps(onlyOrigin, { httpAllowedHosts: new Set() })), 'SOURCE_NOT_ALLOWED');
  const before = origin.requests.length;
  t.equal(
    await codeFor(`${origin.url}/image.jpg`, deps(onlyOrigin, { httpAllowedHosts: new Set(['cdn.example']) })),
    'SOURCE_NOT_ALLOWED',
    'host not on the allowlist',
  );
  t.equal(origin.requests.length, before, 'no request was sent');
});

t.test('HTTP source errors', async (t) => {
  const d = deps(onlyOrigin, { maxSourceBytes: 256 * 1024 });
  t.equal(await codeFor(`${origin.url}/missing.jpg`, d), 'SOURCE_NOT_FOUND', '404');
  t.equal(await codeFor(`${origin.url}/error`, d), 'SOURCE_FETCH_FAILED', '500');
  t.equal(await codeFor(`${origin.url}/declared-large`, d), 'SOURCE_TOO_LARGE', 'Content-Length over the cap');
  t.equal(await codeFor(`${origin.url}/stream-large`, d), 'SOURCE_TOO_LARGE', 'streamed body over the cap');
  await new Promise((r) => setTimeout(r, 50));
  t.ok(streamClosedEarly, 'the client hung up instead of reading the rest');
  t.equal(await codeFor(`${origin.url}/slow`, deps(onlyOrigin, { fetchTimeoutMs: 300 })), 'TIMEOUT', 'no answer in time');
  t.equal(slowResponses, 1);
  t.equal(await codeFor('http://127.0.0.2:9/image.jpg', d), 'SOURCE_FETCH_FAILED', 'connection refused');
});
