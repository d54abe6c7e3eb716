import t from 'tap';
import type { Dispatcher } from 'undici';
import { MarqueeError, type Source } from '@marquee/shared';
import {
  generate,
  publicAddressesOnly,
  type AddressPolicy,
  type ConfigOptions,
  type DepsOverrides,
} from '../src/index.js';
import { makeRequest, testDeps } from './helpers/deps.js';
import { startHttp } from './helpers/http.js';
import { magicFormat, photoJpeg } from './helpers/images.js';

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

// The origin's address on another port: allowlisting the origin's port must never reach this one.
const canary = await startHttp(t, '127.0.0.2', (_req, res) => res.end(jpeg));

// IPv6 loopback, when the machine has one: an origin and a canary of its own.
const v6 = await startHttp(t, '::1', (_req, res) => res.end(jpeg)).catch(() => undefined);
const v6Canary = await startHttp(t, '::1', (_req, res) => res.end(jpeg)).catch(() => undefined);

const onlyOrigin: AddressPolicy = (address) => address === '127.0.0.2';
// The allowlist names host and port. Every attack host is listed with the port its attack
// uses, so that what refuses an attack below is the address check, not the port check.
const allowedHosts = [
  `127.0.0.1:${target.port}`,
  `127.0.0.2:${origin.port}`,
  '127.0.0.2:9', // nothing listens there: "connection refused"
  '169.254.169.254',
  `[::1]:${target.port}`,
  `[::ffff:127.0.0.1]:${target.port}`, // normalised to [::ffff:7f00:1], as the URL parser spells it
  `localhost:${target.port}`,
  `[::]:${target.port}`,
  `0.0.0.0:${target.port}`,
];

function deps(policy: AddressPolicy, options: ConfigOptions = {}, overrides: DepsOverrides = {}) {
  return testDeps(
    undefined,
    { httpAllowedHosts: new Set(allowedHosts), fetchTimeoutMs: 2000, ...options },
    { addressPolicy: policy, ...overrides },
  );
}

/** 'OK', or the code and public message of the MarqueeError the fetch failed with. */
async function outcome(url: string, d = deps(publicAddressesOnly)): Promise<{ code: string; message?: string }> {
  const source: Source = { url };
  try {
    await generate(makeRequest(source), d);
    return { code: 'OK' };
  } catch (err) {
    if (err instanceof MarqueeError) return { code: err.code, message: err.message };
    return { code: `not a MarqueeError: ${String(err)}` };
  }
}

async function codeFor(url: string, d = deps(publicAddressesOnly)): Promise<string> {
  return (await outcome(url, d)).code;
}

/**
 * An HTTP agent that sends nothing and records the origins it was asked for: a URL
 * refused by the allowlist never reaches it, so no DNS lookup and no connection happen.
 */
function recordingAgent(): { agent: Dispatcher; origins: string[] } {
  const origins: string[] = [];
  const request = async (options: Dispatcher.RequestOptions) => {
    origins.push(String(options.origin));
    throw new Error('recorded, not sent');
  };
  return { agent: { request } as unknown as Dispatcher, origins };
}

t.test('an allowed origin renders; Content-Type is ignored', async (t) => {
  const out = await generate(makeRequest({ url: `${origin.url}/image.jpg` }), deps(onlyOrigin));
  t.match(out, { width: 320, height: 180, contentType: 'image/webp' });
  t.equal(magicFormat(out.data), 'webp', 'the rendered bytes');
  t.equal(await codeFor(`${origin.url}/hops?n=3`, deps(onlyOrigin)), 'OK', 'three redirect hops are followed');
  t.equal(await codeFor(`${origin.url}/hops?n=4`, deps(onlyOrigin)), 'SOURCE_FETCH_FAILED', 'a fourth hop is refused');
});

t.test('SSRF attempts are refused before any request reaches the target', async (t) => {
  const port = target.port;
  const address = /source address not allowed/;
  const attacks: Array<[string, RegExp]> = [
    [`http://127.0.0.1:${port}/`, address],
    [`http://2130706433:${port}/`, address], // 127.0.0.1 spelled as one decimal number
    [`http://0x7f.1:${port}/`, address], // and in hex shorthand
    [`http://169.254.169.254/latest/meta-data/`, address],
    [`http://[::1]:${port}/`, address],
    [`http://[::ffff:127.0.0.1]:${port}/`, address],
    [`http://[::]:${port}/`, address],
    [`http://0.0.0.0:${port}/`, address],
    [`http://localhost:${port}/`, address], // a DNS name that resolves to loopback
    [`http://not-allowed.example:${port}/`, /source host not allowed/], // not in the host allowlist
    [`${origin.url}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${port}/`)}`, address],
    [`${origin.url}/redirect?to=${encodeURIComponent(`http://localhost:${port}/`)}`, address],
    [`${origin.url}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`, /source scheme not allowed/],
  ];
  for (const [url, reason] of attacks) {
    // The origin is reachable (for the redirect cases); loopback 127.0.0.1 never is.
    const result = await outcome(
      url,
      deps((a, f) => onlyOrigin(a, f) || publicAddressesOnly(a, f)),
    );
    t.match(result, { code: 'SOURCE_NOT_ALLOWED', message: reason }, url);
  }
  t.equal(target.requests.length, 0, 'the target saw no request');
  t.equal(target.connections, 0, 'nor any connection');
});

t.test('an allowlisted host on another port is refused before any connection', async (t) => {
  const d = deps(onlyOrigin);
  t.match(await outcome(`http://127.0.0.2:${canary.port}/image.jpg`, d), {
    code: 'SOURCE_NOT_ALLOWED',
    message: `source host not allowed: 127.0.0.2:${canary.port}`,
  });
  t.match(
    await outcome('http://127.0.0.2/image.jpg', d),
    { code: 'SOURCE_NOT_ALLOWED' },
    'nor its default port, not named',
  );
  t.equal(canary.connections, 0, 'the canary on that port saw no connection');
  t.equal(await codeFor(`${origin.url}/image.jpg`, d), 'OK', 'the named port still works');
});

t.test('every redirect hop is checked for its port too', async (t) => {
  const d = deps(onlyOrigin);
  const before = origin.requests.length;
  const elsewhere = [
    `http://127.0.0.2:${canary.port}/image.jpg`,
    `//127.0.0.2:${canary.port}/image.jpg`, // scheme-relative
    'http://127.0.0.2/image.jpg', // the default port, not named
  ];
  for (const to of elsewhere) {
    t.equal(await codeFor(`${origin.url}/redirect?to=${encodeURIComponent(to)}`, d), 'SOURCE_NOT_ALLOWED', to);
  }
  t.equal(origin.requests.length, before + elsewhere.length, 'each first hop was fetched');
  t.equal(canary.connections, 0, 'the canary saw no connection');
});

t.test('nothing is looked up or connected for a port the allowlist does not name', async (t) => {
  const { agent, origins } = recordingAgent();
  const d = deps(
    publicAddressesOnly,
    {
      httpAllowedHosts: new Set(['img.example.com', 'cdn.example.com:8443', '[2606:4700:0:0::1111]:8443']),
    },
    { httpAgent: async () => agent },
  );
  const refused = [
    'https://img.example.com:22/a.jpg',
    'https://img.example.com:8443/a.jpg',
    'https://img.example.com:80/a.jpg',
    'http://img.example.com:443/a.jpg', // 443 is not http's default
    'https://cdn.example.com/a.jpg', // only 8443 is named
    'http://cdn.example.com:8444/a.jpg',
    'https://[2606:4700::1111]/a.jpg',
    'https://[2606:4700::1111]:8444/a.jpg',
  ];
  for (const url of refused) t.equal(await codeFor(url, d), 'SOURCE_NOT_ALLOWED', url);
  t.same(origins, [], 'the agent was never asked: no DNS lookup, no connection');

  // Allowed: each reaches the agent (which sends nothing, hence SOURCE_FETCH_FAILED).
  const allowed: Array<[string, string]> = [
    ['https://img.example.com/a.jpg', 'https://img.example.com'],
    ['https://img.example.com:443/a.jpg', 'https://img.example.com'], // an explicit default port is the default
    ['http://img.example.com:80/a.jpg', 'http://img.example.com'],
    ['https://cdn.example.com:8443/a.jpg', 'https://cdn.example.com:8443'],
    ['http://cdn.example.com:8443/a.jpg', 'http://cdn.example.com:8443'],
    ['https://[2606:4700::1111]:8443/a.jpg', 'https://[2606:4700::1111]:8443'],
  ];
  for (const [url] of allowed) t.equal(await codeFor(url, d), 'SOURCE_FETCH_FAILED', url);
  t.same(
    origins,
    allowed.map(([, o]) => o),
    'the agent was asked for exactly the allowed origins',
  );
});

t.test(
  'an IPv6 literal is allowlisted with its port',
  { skip: v6 === undefined || v6Canary === undefined ? 'no IPv6 loopback' : false },
  async (t) => {
    if (v6 === undefined || v6Canary === undefined) return;
    const onlyV6Loopback: AddressPolicy = (address, family) => family === 6 && address === '::1';
    // Spelled out in full: the entry is normalised as the URL parser spells [::1].
    const d = deps(onlyV6Loopback, { httpAllowedHosts: new Set([`[0:0:0:0:0:0:0:1]:${v6.port}`]) });
    t.equal(await codeFor(`${v6.url}/image.jpg`, d), 'OK', v6.url);
    t.equal(
      await codeFor(`http://[::1]:${v6Canary.port}/image.jpg`, d),
      'SOURCE_NOT_ALLOWED',
      'another port of the same literal',
    );
    t.equal(await codeFor('http://[::1]/image.jpg', d), 'SOURCE_NOT_ALLOWED', 'its default port, not named');
    t.equal(v6Canary.connections, 0, 'the IPv6 canary saw no connection');
  },
);

t.test('HTTP sources are refused when no host is allowlisted', async (t) => {
  t.equal(
    await codeFor(`${origin.url}/image.jpg`, deps(onlyOrigin, { httpAllowedHosts: new Set() })),
    'SOURCE_NOT_ALLOWED',
  );
  const before = origin.requests.length;
  t.equal(
    await codeFor(
      `${origin.url}/image.jpg`,
      deps(onlyOrigin, { httpAllowedHosts: new Set(['cdn.example', `cdn.example:${origin.port}`]) }),
    ),
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
  t.equal(
    await codeFor(`${origin.url}/slow`, deps(onlyOrigin, { fetchTimeoutMs: 300 })),
    'TIMEOUT',
    'no answer in time',
  );
  t.equal(slowResponses, 1);
  t.equal(await codeFor('http://127.0.0.2:9/image.jpg', d), 'SOURCE_FETCH_FAILED', 'connection refused');
});
