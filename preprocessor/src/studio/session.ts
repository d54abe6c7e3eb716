import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_TTL_SECONDS } from './limits.js';

export const SESSION_COOKIE = 'marquee_studio';
/** The cookie is only ever sent to the studio's own pages and API. */
const COOKIE_PATH = '/studio';
const SESSION_FORMAT = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/;

/** Compares secrets in constant time, whatever their lengths (both sides are hashed first). */
export function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The key that signs session cookies: derived from the signing key and the studio token, so
 * rotating either one ends every session, and a session cookie is never a valid render signature.
 */
export function sessionKey(signingKey: string, studioToken: string): Buffer {
  return createHmac('sha256', signingKey).update(`marquee studio session v1\0${studioToken}`).digest();
}

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** A session value `v1.<exp>.<nonce>.<mac>`: stateless, expiring, unforgeable without the key. */
export function mintSession(key: Buffer, now = Date.now(), ttlSeconds = SESSION_TTL_SECONDS): { value: string; exp: number } {
  const exp = Math.floor(now / 1000) + ttlSeconds;
  const body = `v1.${exp}.${randomBytes(18).toString('base64url')}`;
  return { value: `${body}.${mac(key, body)}`, exp };
}

export function verifySession(key: Buffer, value: string | undefined, now = Date.now()): boolean {
  if (!value) return false;
  const match = SESSION_FORMAT.exec(value);
  if (!match) return false;
  const [, exp, nonce, sig] = match;
  const expected = Buffer.from(mac(key, `v1.${exp}.${nonce}`), 'base64url');
  const given = Buffer.from(sig ?? '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  return Number(exp) * 1000 > now;
}

/** One cookie's value from a Cookie header (RFC 6265 `name=value; name=value`). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/** Secure when the client reached us over TLS (directly or, as a proxy says, at the edge). */
function isHttps(request: FastifyRequest): boolean {
  // Trusting the header here only ever makes the cookie stricter, never looser.
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
  const attributes = [`Path=${COOKIE_PATH}`, 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAge}`];
  if (request.server.config.studioSecureCookie || isHttps(request)) attributes.push('Secure');
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; ${attributes.join('; ')}`);
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  setSessionCookie(request, reply, '', 0);
}

/** A bearer token from the Authorization header, if any. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Signed in: a valid session cookie, or the studio token as a bearer token. */
export function isAuthenticated(request: FastifyRequest, key: Buffer, studioToken: string): boolean {
  const bearer = bearerToken(request);
  if (bearer !== undefined) return secretEquals(bearer, studioToken);
  return verifySession(key, readCookie(request.headers.cookie, SESSION_COOKIE));
}
