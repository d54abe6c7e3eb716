/**
 * The Generator's one typed config: option, then environment, then default. The variables are
 * declared once in `GeneratorEnv` and read by `@marquee/shared`'s env module at Lambda init:
 * every bad value is reported at once, one line naming each variable, what was expected and
 * what came. Reading is a walk over a dozen small schemas with TypeBox's `Check` (nothing is
 * compiled), about a millisecond of a cold start.
 */

import {
  BucketVar,
  ConfigError,
  HttpUrlVar,
  LogLevelVar,
  MAX_PRELUDE_BYTES,
  MAX_STREAMED_RESPONSE_BYTES,
  Type,
  configProblem,
  parseEnv,
  type Env,
  type LogLevel,
} from '@marquee/shared';
import { allowlistEntry } from './source/guard.js';

export { LOG_LEVELS, type LogLevel } from '@marquee/shared';

/**
 * Largest output streamed back: Lambda's response streaming limit less room for the prelude.
 * An output past it is OUTPUT_TOO_LARGE (no artwork output comes near it).
 */
export const DEFAULT_MAX_OUTPUT_BYTES = MAX_STREAMED_RESPONSE_BYTES - MAX_PRELUDE_BYTES;
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
  /** Largest output streamed back; an option only (tests lower it), never an env var. */
  maxOutputBytes: number;
  logLevel: LogLevel;
  /**
   * The Lambda function's name (`AWS_LAMBDA_FUNCTION_NAME`, set by the runtime): the dimension
   * of the failure metrics in the log line. Undefined off Lambda, and then no metric is emitted.
   */
  functionName: string | undefined;
}

export type ConfigOptions = Partial<GeneratorConfig>;

/** libvips takes its render budget in whole seconds, at most an hour. */
const MAX_RENDER_TIMEOUT_MS = 3_600_000;
const HOST_ENTRIES = 'host or host:port entries ([v6]:port for IPv6)';

/** Every variable the Generator reads (the README's table says the same). */
export const GeneratorEnv = Type.Object({
  AWS_REGION: Type.String({ default: 'us-east-1' }),
  LOG_LEVEL: LogLevelVar({ default: 'info' }),
  AWS_LAMBDA_FUNCTION_NAME: Type.Optional(
    Type.String({ description: "set by Lambda: the failure metrics' dimension" }),
  ),
  MARQUEE_S3_ENDPOINT: Type.Optional(HttpUrlVar({ description: 'a custom S3 endpoint (path-style addressing)' })),
  MARQUEE_SOURCE_BUCKETS: Type.Optional(
    Type.Array(BucketVar(), { description: 'buckets sources may be read from; unset = any' }),
  ),
  MARQUEE_DERIVATIVES_BUCKET: Type.Optional(
    BucketVar({ description: 'where renders are kept (`output`, or `store: true`)' }),
  ),
  MARQUEE_HTTP_ALLOWED_HOSTS: Type.Array(
    // Normalised as the guard compares them: lower case, default port dropped, IPv6 bracketed.
    Type.String({ parse: allowlistEntry }),
    { default: [], expected: HOST_ENTRIES, description: 'host and port pairs HTTP(S) sources may name' },
  ),
  MARQUEE_MAX_SOURCE_BYTES: Type.Integer({
    minimum: 1,
    default: DEFAULT_MAX_SOURCE_BYTES,
    description: 'byte cap on a source',
  }),
  MARQUEE_SOURCE_CACHE_BYTES: Type.Integer({
    minimum: 0,
    default: DEFAULT_SOURCE_CACHE_BYTES,
    description: 'source bytes a warm environment keeps',
  }),
  MARQUEE_MAX_INPUT_PIXELS: Type.Integer({
    minimum: 1,
    default: DEFAULT_MAX_INPUT_PIXELS,
    description: 'pixel cap, read from the header',
  }),
  MARQUEE_FETCH_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: DEFAULT_FETCH_TIMEOUT_MS,
    description: 'fetch budget per source',
  }),
  MARQUEE_RENDER_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    maximum: MAX_RENDER_TIMEOUT_MS,
    default: DEFAULT_RENDER_TIMEOUT_MS,
    description: 'render budget (libvips: whole seconds, at most an hour)',
  }),
});

/** Host allowlist entries given as an option, normalised like the variable's; bad ones are problems. */
function hostOption(entries: Iterable<string>, problems: string[]): Set<string> {
  const out = new Set<string>();
  for (const text of entries) {
    const entry = allowlistEntry(text);
    if (entry === undefined) problems.push(configProblem('httpAllowedHosts', HOST_ENTRIES, text));
    else out.add(entry);
  }
  return out;
}

/** Reads and validates the config once; throws one `ConfigError` listing every bad value. */
export function loadConfig(options: ConfigOptions = {}, env?: Env): GeneratorConfig {
  const { values: v, problems } = parseEnv(GeneratorEnv, env);
  const config: GeneratorConfig = {
    region: options.region ?? v.AWS_REGION,
    s3Endpoint: 's3Endpoint' in options ? options.s3Endpoint : v.MARQUEE_S3_ENDPOINT,
    sourceBuckets:
      'sourceBuckets' in options
        ? options.sourceBuckets
        : v.MARQUEE_SOURCE_BUCKETS && new Set(v.MARQUEE_SOURCE_BUCKETS),
    derivativesBucket: 'derivativesBucket' in options ? options.derivativesBucket : v.MARQUEE_DERIVATIVES_BUCKET,
    httpAllowedHosts:
      options.httpAllowedHosts === undefined
        ? new Set(v.MARQUEE_HTTP_ALLOWED_HOSTS)
        : hostOption(options.httpAllowedHosts, problems),
    maxSourceBytes: options.maxSourceBytes ?? v.MARQUEE_MAX_SOURCE_BYTES,
    sourceCacheBytes: options.sourceCacheBytes ?? v.MARQUEE_SOURCE_CACHE_BYTES,
    maxInputPixels: options.maxInputPixels ?? v.MARQUEE_MAX_INPUT_PIXELS,
    fetchTimeoutMs: options.fetchTimeoutMs ?? v.MARQUEE_FETCH_TIMEOUT_MS,
    renderTimeoutMs: options.renderTimeoutMs ?? v.MARQUEE_RENDER_TIMEOUT_MS,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    logLevel: options.logLevel ?? v.LOG_LEVEL,
    functionName: 'functionName' in options ? options.functionName : v.AWS_LAMBDA_FUNCTION_NAME,
  };
  // The variables were checked by their schema; options are held to the same bounds.
  if (config.renderTimeoutMs > MAX_RENDER_TIMEOUT_MS) {
    problems.push(
      configProblem(
        'renderTimeoutMs',
        `at most ${MAX_RENDER_TIMEOUT_MS} (libvips limit)`,
        String(config.renderTimeoutMs),
      ),
    );
  }
  if (!(config.maxOutputBytes > 0))
    problems.push(configProblem('maxOutputBytes', 'a positive integer', String(config.maxOutputBytes)));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
