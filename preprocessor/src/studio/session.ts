import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
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
export function mintSession(
  key: Buffer,
  now = Date.now(),
  ttlSeconds = SESSION_TTL_SECONDS,
): { value: string; exp: number } {
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

/** Secure when the client reached us over TLS (directly or, as a proxy says, at the edge). */
function isHttps(request: FastifyRequest): boolean {
  // Trusting the header here only ever makes the cookie stricter, never looser.
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

/**
 * The session cookie's attributes: no script reads it, no cross-site request carries it, and it
 * is sent to the studio only. Our own MAC signs the value (with its expiry), so the cookie
 * plugin's `signed` is not used.
 */
function sessionCookieOptions(request: FastifyRequest, maxAge: number): CookieSerializeOptions {
  return {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict',
    maxAge,
    secure: request.server.config.studioSecureCookie || isHttps(request),
  };
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
  reply.setCookie(SESSION_COOKIE, value, sessionCookieOptions(request, maxAge));
}

/** Same name, path and attributes as the session, empty and already expired: the browser drops it. */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(request, 0));
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
  return verifySession(key, request.cookies[SESSION_COOKIE]);
}
