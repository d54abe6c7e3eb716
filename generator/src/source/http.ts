import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
import { MarqueeError } from '@marquee/shared';
import { hostAllowed, ipLiteral, type AddressPolicy } from './guard.js';
import { declaredLength, readSource, tooLarge } from './limit.js';

/** Redirect hops followed by hand, each re-checked: enough for a CDN's canonical-URL bounce. */
export const MAX_REDIRECTS = 3;

export interface HttpSourceOptions {
  /** `host` (the scheme's default port only) or `host:port` entries, as `allowlistEntry` writes them. */
  allowedHosts: ReadonlySet<string>;
  policy: AddressPolicy;
  maxBytes: number;
  timeoutMs: number;
}

type Undici = typeof import('undici');
let undiciModule: Promise<Undici> | undefined;
/** undici is only needed by HTTP sources: loaded on first use. */
function loadUndici(): Promise<Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}

/** Thrown from inside the connector's lookup when DNS answers with a refused address. */
class BlockedAddressError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`${hostname} resolves to a refused address`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * A `lookup` for net/tls.connect that resolves once, checks every answer
 * against the policy and hands back exactly the checked addresses: the socket
 * connects to what was checked, so DNS rebinding between check and connect
 * has no second lookup to exploit.
 */
export function pinnedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const f = options.family;
    const family = f === 4 || f === 'IPv4' ? 4 : f === 6 || f === 'IPv6' ? 6 : 0;
    dnsLookup(hostname, { all: true, family }, (err, answers) => {
      if (err) return callback(err, []);
      const refused = answers.find((a) => !policy(a.address, a.family === 6 ? 6 : 4));
      const first = answers[0];
      if (refused !== undefined || first === undefined) {
        return callback(new BlockedAddressError(hostname, refused?.address ?? ''), []);
      }
      if (options.all) return callback(null, answers);
      return callback(null, first.address, first.family);
    });
  };
}

/** One keep-alive agent per environment, created on first HTTP source. */
export function lazyHttpAgent(policy: AddressPolicy, timeoutMs: number): () => Promise<Dispatcher> {
  let agent: Promise<Dispatcher> | undefined;
  return () => {
    agent ??= loadUndici().then(
      ({ Agent }) =>
        new Agent({
          connect: { lookup: pinnedLookup(policy), timeout: timeoutMs },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        }),
    );
    return agent;
  };
}

/**
 * Throws unless the URL is http(s) on an allowlisted host and port and, if an IP literal,
 * an allowed address. Pure: it runs before any DNS lookup or connection, on every hop.
 */
export function checkUrl(url: URL, options: Pick<HttpSourceOptions, 'allowedHosts' | 'policy'>): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MarqueeError('SOURCE_NOT_ALLOWED', `source scheme not allowed: ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new MarqueeError('SOURCE_NOT_ALLOWED', 'source URL must not carry credentials');
  }
  if (!hostAllowed(url, options.allowedHosts)) {
    // `host` carries the port when it is not the default: the part that did not match shows.
    throw new MarqueeError('SOURCE_NOT_ALLOWED', `source host not allowed: ${url.host}`);
  }
  // net.connect skips `lookup` for IP literals, so they are checked here.
  const literal = ipLiteral(url.hostname);
  if (literal !== undefined && !options.policy(literal.address, literal.family)) {
    throw new MarqueeError('SOURCE_NOT_ALLOWED', `source address not allowed: ${url.hostname}`);
  }
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch (err) {
    throw new MarqueeError('SOURCE_NOT_ALLOWED', 'source URL is not valid', { cause: err });
  }
}

const ignore = () => {};

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function classify(err: unknown, url: URL): MarqueeError {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof BlockedAddressError) {
      return new MarqueeError('SOURCE_NOT_ALLOWED', `source address not allowed: ${url.hostname}`, { cause: err });
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      return new MarqueeError('TIMEOUT', `source fetch timed out: ${url.host}`, { cause: err });
    }
  }
  return new MarqueeError('SOURCE_FETCH_FAILED', `source fetch failed: ${url.host}`, { cause: err });
}

/** GET an allowlisted HTTP(S) source, following at most MAX_REDIRECTS hops by hand. */
export async function fetchHttp(
  source: string,
  agent: Dispatcher,
  options: HttpSourceOptions,
  signal: AbortSignal,
): Promise<Buffer> {
  let url = parseUrl(source);
  for (let hop = 0; ; hop++) {
    checkUrl(url, options);
    let res: Dispatcher.ResponseData;
    try {
      res = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: 'image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.8' },
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw classify(err, url);
    }
    const { statusCode, headers, body } = res;
    // An undici body destroyed before its end emits 'error'; nobody needs it any more.
    const destroy = () => {
      body.on('error', ignore);
      body.destroy();
    };
    const location = headers.location;
    if (statusCode >= 300 && statusCode < 400 && typeof location === 'string') {
      destroy();
      if (hop >= MAX_REDIRECTS) {
        throw new MarqueeError('SOURCE_FETCH_FAILED', `source redirected more than ${MAX_REDIRECTS} times`);
      }
      url = parseUrl(location, url);
      continue;
    }
    if (statusCode !== 200) {
      destroy();
      const code = statusCode === 404 || statusCode === 410 ? 'SOURCE_NOT_FOUND' : 'SOURCE_FETCH_FAILED';
      throw new MarqueeError(code, `source answered ${statusCode}: ${url.host}`);
    }
    const length = declaredLength(headers['content-length']);
    if (length !== undefined && length > options.maxBytes) {
      destroy();
      throw tooLarge(options.maxBytes);
    }
    try {
      return await readSource(body, options.maxBytes, destroy);
    } catch (err) {
      destroy();
      if (err instanceof MarqueeError) throw err;
      if (signal.aborted) throw signal.reason;
      throw classify(err, url);
    }
  }
}
