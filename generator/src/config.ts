/**
 * The Generator's one typed config: option, then environment, then default.
 * This is the only file that reads `process.env`; a bad value throws at start-up
 * with a message naming the variable, what was expected and what came.
 */

import { allowlistEntry } from './source/guard.js';

/** Lambda's synchronous response payload limit (6 MB as AWS counts it). */
export const LAMBDA_RESPONSE_LIMIT = 6_291_456;
/**
 * Headroom kept under the Lambda limit for the runtime's own framing and for
 * an error envelope swapped in late; 64 KiB is far above what either needs.
 */
export const INLINE_MARGIN_BYTES = 64 * 1024;
/** Largest serialised result (envelope + base64 body) returned inline. */
export const DEFAULT_MAX_INLINE_BYTES = LAMBDA_RESPONSE_LIMIT - INLINE_MARGIN_BYTES;
/** Source bytes cap: artwork masters are a few MB; 32 MiB leaves room for PNG masters. */
export const DEFAULT_MAX_SOURCE_BYTES = 32 * 1024 * 1024;
/** Decoded pixel cap, checked from the header before decode: an 8K master is 33 MP. */
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;
/** Fetch budget per source: imgproxy's 5 s download time-out. */
export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
/**
 * Source bytes a warm environment keeps (revalidated by ETag on every use): a few popular
 * masters, well inside a 2 GB function. 0 turns the cache off.
 */
export const DEFAULT_SOURCE_CACHE_BYTES = 64 * 1024 * 1024;
/** Render budget, enforced by libvips (whole seconds). */
export const DEFAULT_RENDER_TIMEOUT_MS = 20_000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GeneratorConfig {
  region: string;
  /** Custom S3 endpoint (s3rver locally); path-style addressing when set. */
  s3Endpoint: string | undefined;
  /** Buckets sources may be read from; undefined = any bucket IAM allows. */
  sourceBuckets: ReadonlySet<string> | undefined;
  derivativesBucket: string | undefined;
  /**
   * Host and port pairs HTTP(S) sources may name; empty = HTTP sources refused.
   * `img.example.com` allows only the scheme's default port (80 for http, 443 for https);
   * `img.example.com:8443` allows port 8443 (either scheme); IPv6 literals are bracketed,
   * `[2001:db8::1]:8443`. Entries are normalised by `allowlistEntry`, options included.
   */
  httpAllowedHosts: ReadonlySet<string>;
  maxSourceBytes: number;
  sourceCacheBytes: number;
  maxInputPixels: number;
  fetchTimeoutMs: number;
  renderTimeoutMs: number;
  /** Largest result returned inline; an option only (tests lower it), never an env var. */
  maxInlineBytes: number;
  logLevel: LogLevel;
  /**
   * The Lambda function's name (`AWS_LAMBDA_FUNCTION_NAME`, set by the runtime): the dimension
   * of the failure metrics in the log line. Undefined off Lambda, and then no metric is emitted.
   */
  functionName: string | undefined;
}

export type ConfigOptions = Partial<GeneratorConfig>;
type Env = Record<string, string | undefined>;

function invalid(name: string, expected: string, got: string): never {
  throw new Error(`config ${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}

function nonNegativeInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw.trim()))) invalid(name, 'a whole number >= 0', raw);
  return Number(raw.trim());
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) invalid(name, 'a positive integer', raw);
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value <= 0) invalid(name, 'a positive integer', raw);
  return value;
}

function list(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}

function bucketList(env: Env, name: string): Set<string> | undefined {
  const names = list(env, name);
  if (names === undefined) return undefined;
  for (const b of names) if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) invalid(name, 'S3 bucket names', b);
  return new Set(names);
}

/** Host allowlist entries, normalised; a bad entry names the expected form. */
function hostSet(name: string, entries: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const text of entries) {
    const entry = allowlistEntry(text);
    if (entry === undefined) invalid(name, 'host or host:port entries ([v6]:port for IPv6)', text);
    out.add(entry);
  }
  return out;
}

function hostList(env: Env, name: string): Set<string> {
  return hostSet(name, list(env, name) ?? []);
}

function endpoint(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return invalid(name, 'an http(s) URL', raw);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid(name, 'an http(s) URL', raw);
  return raw;
}

function logLevel(env: Env, name: string): LogLevel {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) invalid(name, LOG_LEVELS.join('|'), raw);
  return raw as LogLevel;
}

function bucket(env: Env, name: string): string | undefined {
  const set = bucketList(env, name);
  if (set === undefined) return undefined;
  if (set.size !== 1) invalid(name, 'one bucket name', env[name] ?? '');
  return [...set][0];
}

/** Reads and validates the config once; throws on the first bad value. */
export function loadConfig(options: ConfigOptions = {}, env: Env = process.env): GeneratorConfig {
  const config: GeneratorConfig = {
    region: options.region ?? (env.AWS_REGION?.trim() || 'us-east-1'),
    s3Endpoint: 's3Endpoint' in options ? options.s3Endpoint : endpoint(env, 'MARQUEE_S3_ENDPOINT'),
    sourceBuckets: 'sourceBuckets' in options ? options.sourceBuckets : bucketList(env, 'MARQUEE_SOURCE_BUCKETS'),
    derivativesBucket:
      'derivativesBucket' in options ? options.derivativesBucket : bucket(env, 'MARQUEE_DERIVATIVES_BUCKET'),
    httpAllowedHosts:
      options.httpAllowedHosts === undefined
        ? hostList(env, 'MARQUEE_HTTP_ALLOWED_HOSTS')
        : hostSet('httpAllowedHosts', options.httpAllowedHosts),
    maxSourceBytes: options.maxSourceBytes ?? positiveInt(env, 'MARQUEE_MAX_SOURCE_BYTES', DEFAULT_MAX_SOURCE_BYTES),
    sourceCacheBytes:
      options.sourceCacheBytes ?? nonNegativeInt(env, 'MARQUEE_SOURCE_CACHE_BYTES', DEFAULT_SOURCE_CACHE_BYTES),
    maxInputPixels: options.maxInputPixels ?? positiveInt(env, 'MARQUEE_MAX_INPUT_PIXELS', DEFAULT_MAX_INPUT_PIXELS),
    fetchTimeoutMs: options.fetchTimeoutMs ?? positiveInt(env, 'MARQUEE_FETCH_TIMEOUT_MS', DEFAULT_FETCH_TIMEOUT_MS),
    renderTimeoutMs:
      options.renderTimeoutMs ?? positiveInt(env, 'MARQUEE_RENDER_TIMEOUT_MS', DEFAULT_RENDER_TIMEOUT_MS),
    maxInlineBytes: options.maxInlineBytes ?? DEFAULT_MAX_INLINE_BYTES,
    logLevel: options.logLevel ?? logLevel(env, 'LOG_LEVEL'),
    functionName: 'functionName' in options ? options.functionName : env.AWS_LAMBDA_FUNCTION_NAME?.trim() || undefined,
  };
  if (config.renderTimeoutMs > 3_600_000) invalid('MARQUEE_RENDER_TIMEOUT_MS', 'at most 3600000 (libvips limit)', String(config.renderTimeoutMs));
  if (config.maxInlineBytes <= 0) invalid('maxInlineBytes', 'a positive integer', String(config.maxInlineBytes));
  return config;
}
