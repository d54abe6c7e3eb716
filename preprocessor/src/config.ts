import { randomBytes } from 'node:crypto';
import {
  BucketVar,
  CACHE_TAG_HEADER_PATTERN,
  ConfigError,
  DEFAULT_CACHE_TAG_HEADER,
  HttpUrlVar,
  LogLevelVar,
  Type,
  parseEnv,
  unknownVariables,
  type Env,
} from '@marquee/shared';
import { INVALIDATION_PATTERN, parseInvalidationTarget, type InvalidationTarget } from './invalidation/target.js';

export { ConfigError };

/**
 * The Preprocessor's one typed config: explicit option, then environment, then default.
 * The variables are declared once in `PreprocessorEnv` and read by `@marquee/shared`'s env
 * module: every bad value is reported at once, one line naming each variable.
 */
export interface PreprocessorConfig {
  host: string;
  port: number;
  /** Where `/metrics` is served on its own (on `host`), instead of on `port`; 0: any free port. */
  metricsPort: number | undefined;
  logLevel: string;
  /** Rules YAML: a file path or `s3://bucket/key`. */
  rules: string;
  /** Catalog JSON: a file path or `s3://bucket/key`. */
  catalog: string;
  /** How often rules and catalog are checked for changes. */
  reloadMs: number;
  sourcesBucket: string;
  derivativesBucket: string | undefined;
  region: string;
  s3Endpoint: string | undefined;
  generator: {
    functionName: string;
    qualifier: string | undefined;
    endpoint: string | undefined;
    /** Deadline for one image, retries of throttling included. */
    timeoutMs: number;
    /** Invocations in flight per instance (match the Generator's concurrency share). */
    maxInFlight: number;
    /** Renders waiting for a slot; past it requests are shed with 503 at once. */
    maxQueue: number;
    /** Longest wait for a slot before a 503. */
    queueTimeoutMs: number;
    /** Longest time spent retrying Lambda throttling before a 503 (inside the deadline). */
    throttleRetryMs: number;
  };
  cache: {
    /** Bytes of rendered images kept in memory. */
    maxBytes: number;
    /** Larger outputs are served but not kept: one billboard must not evict a thousand boxshots. */
    maxEntryBytes: number;
  };
  /** The derivative store (in `derivativesBucket`; off without one). */
  store: {
    /** Whether renders are read from and written to the store at all (the bench's uncached arm turns it off). */
    enabled: boolean;
    /** Longest store read on an output-cache miss before the Generator is invoked instead. */
    readTimeoutMs: number;
    /** Whether the Generator keeps renders of stored types (it PUTs them after streaming them back). */
    writes: boolean;
  };
  /** The CDN a studio publish invalidates (the rules CLI takes its own flags, this by default). */
  invalidation: InvalidationTarget | undefined;
  /** The response header artwork replies carry their cache tags in (lower case). */
  cacheTagHeader: string;
  prewarm: {
    /** Fraction of the Generator slots (`generator.maxInFlight`) prewarm renders may hold at once; 0: none. */
    share: number;
    /** Whether a catalog reload that brings new artwork versions or sources prewarms them here. */
    onReload: boolean;
  };
  /** Event-loop delay (ms) past which requests are shed with 503. */
  maxEventLoopDelayMs: number;
  /** HMAC key for /v1/render URLs. */
  signingKey: string;
  /** Bearer token for the studio. */
  studioToken: string;
  /** Which of the secrets above were generated for this process (local use only). */
  generated: { signingKey: boolean; studioToken: boolean };
  /** Studio session cookies always `Secure` (set behind a TLS-terminating CDN or load balancer). */
  studioSecureCookie: boolean;
}

export type ConfigOverrides = Partial<Omit<PreprocessorConfig, 'generator' | 'cache' | 'store' | 'prewarm'>> & {
  generator?: Partial<PreprocessorConfig['generator']>;
  cache?: Partial<PreprocessorConfig['cache']>;
  store?: Partial<PreprocessorConfig['store']>;
  prewarm?: Partial<PreprocessorConfig['prewarm']>;
};

const MiB = 1024 * 1024;

/** Every variable the Preprocessor reads (the README's table says the same). */
export const PreprocessorEnv = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'where it listens (0.0.0.0 in a container)' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'where it listens' }),
  MARQUEE_METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description: '/metrics on its own port, not on PORT (0: any free port)',
    }),
  ),
  LOG_LEVEL: LogLevelVar({ default: 'info' }),
  NODE_ENV: Type.Optional(Type.String({ description: '`production`: secrets required, studio cookies Secure' })),
  MARQUEE_RULES: Type.String({
    default: new URL('../config/rules.yaml', import.meta.url).pathname,
    description: 'rules YAML: a path or s3://bucket/key',
  }),
  MARQUEE_CATALOG: Type.String({
    default: 's3://marquee-sources/catalog.json',
    description: 'catalog JSON: a path or s3://bucket/key',
  }),
  MARQUEE_RELOAD_MS: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 5000,
    description: 'how often rules and catalog are checked',
  }),
  MARQUEE_SOURCES_BUCKET: BucketVar({ default: 'marquee-sources', description: 'where sources live' }),
  MARQUEE_DERIVATIVES_BUCKET: Type.Optional(
    BucketVar({ description: 'the derivative store, and where outputs over 6 MB go' }),
  ),
  AWS_REGION: Type.String({ default: 'us-east-1' }),
  MARQUEE_S3_ENDPOINT: Type.Optional(HttpUrlVar({ description: 'a custom S3 endpoint (local S3)' })),
  MARQUEE_GENERATOR_FUNCTION: Type.String({ default: 'marquee-generator', description: 'the Lambda to invoke' }),
  MARQUEE_GENERATOR_QUALIFIER: Type.Optional(Type.String({ description: 'its alias or version (`live` on AWS)' })),
  MARQUEE_LAMBDA_ENDPOINT: Type.Optional(HttpUrlVar({ description: 'a custom Lambda endpoint (the local one)' })),
  MARQUEE_GENERATOR_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 900_000,
    default: 25_000,
    description: 'deadline per image',
  }),
  MARQUEE_MAX_INFLIGHT: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 32,
    description: 'Generator invocations in flight',
  }),
  MARQUEE_MAX_QUEUE: Type.Integer({
    minimum: 0,
    maximum: 100_000,
    default: 64,
    description: 'renders waiting for a slot',
  }),
  MARQUEE_QUEUE_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 900_000,
    default: 3000,
    description: 'longest wait for a slot',
  }),
  MARQUEE_THROTTLE_RETRY_MS: Type.Integer({
    minimum: 0,
    maximum: 900_000,
    default: 2000,
    description: 'longest retrying of throttling',
  }),
  MARQUEE_CACHE_BYTES: Type.Integer({
    minimum: 0,
    maximum: 64 * 1024 * MiB,
    default: 256 * MiB,
    description: 'output cache bound',
  }),
  MARQUEE_CACHE_MAX_ENTRY_BYTES: Type.Integer({
    minimum: 1,
    maximum: 1024 * MiB,
    default: 8 * MiB,
    description: 'largest image cached',
  }),
  MARQUEE_STORE: Type.Boolean({
    default: true,
    description: 'read and write the derivative store (needs MARQUEE_DERIVATIVES_BUCKET)',
  }),
  MARQUEE_STORE_READ_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    maximum: 60_000,
    default: 300,
    description: 'longest derivative store read before the Generator is invoked instead',
  }),
  MARQUEE_STORE_WRITES: Type.Boolean({
    default: true,
    description: 'the Generator keeps renders of stored types after streaming them (false: the store is only read)',
  }),
  MARQUEE_PREWARM_SHARE: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0.25,
    description: 'share of the Generator slots prewarm renders may hold (0: no prewarm)',
  }),
  MARQUEE_INVALIDATION: Type.String({
    pattern: INVALIDATION_PATTERN,
    default: 'none',
    description: 'the CDN a publish invalidates: none, varnish:<url> or cloudfront:<distribution id>',
  }),
  MARQUEE_CACHE_TAG_HEADER: Type.String({
    pattern: CACHE_TAG_HEADER_PATTERN,
    default: DEFAULT_CACHE_TAG_HEADER,
    description:
      'the header artwork replies carry cache tags in (Cache-Tag: CloudFront, Cloudflare, Varnish; Surrogate-Key: Fastly)',
  }),
  MARQUEE_PREWARM_ON_RELOAD: Type.Boolean({
    default: true,
    description: 'prewarm new artwork versions when a catalog reload brings them',
  }),
  MARQUEE_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
    minimum: 0,
    maximum: 60_000,
    default: 1000,
    description: 'event-loop delay past which requests are shed',
  }),
  MARQUEE_SIGNING_KEY: Type.Optional(
    Type.String({ minLength: 16, secret: true, description: 'HMAC key for /v1/render URLs' }),
  ),
  MARQUEE_STUDIO_TOKEN: Type.Optional(
    Type.String({ minLength: 12, secret: true, description: 'bearer token for the studio' }),
  ),
  MARQUEE_STUDIO_SECURE_COOKIE: Type.Optional(
    Type.Boolean({ description: 'studio cookies always Secure (default: in production)' }),
  ),
});

/** `MARQUEE_*` variables set but not the Preprocessor's: likely typos, worth a warning at start-up. */
export function unknownEnv(env?: Env): string[] {
  return unknownVariables(PreprocessorEnv, env);
}

export function loadConfig(overrides: ConfigOverrides = {}, env?: Env): PreprocessorConfig {
  const { values: v, problems, refused } = parseEnv(PreprocessorEnv, env);
  const production = v.NODE_ENV === 'production';
  const signingKey = overrides.signingKey ?? v.MARQUEE_SIGNING_KEY;
  const studioToken = overrides.studioToken ?? v.MARQUEE_STUDIO_TOKEN;
  // Several instances each generating a key would sign URLs the others refuse: production sets them.
  for (const [name, value] of [
    ['MARQUEE_SIGNING_KEY', signingKey],
    ['MARQUEE_STUDIO_TOKEN', studioToken],
  ] as const) {
    if (production && value === undefined && !refused.has(name))
      problems.push(`${name} must be set when NODE_ENV=production`);
  }
  // The variables were checked by their schema; an option is held to the same bounds.
  if (overrides.signingKey !== undefined && overrides.signingKey.length < 16)
    problems.push('signingKey must be at least 16 characters');
  if (overrides.studioToken !== undefined && overrides.studioToken.length < 12)
    problems.push('studioToken must be at least 12 characters');
  const share = overrides.prewarm?.share;
  if (share !== undefined && !(share >= 0 && share <= 1)) problems.push('prewarm.share must be a fraction from 0 to 1');
  if (problems.length > 0) throw new ConfigError(problems);

  const base: PreprocessorConfig = {
    host: v.HOST,
    port: v.PORT,
    metricsPort: v.MARQUEE_METRICS_PORT,
    logLevel: v.LOG_LEVEL,
    rules: v.MARQUEE_RULES,
    catalog: v.MARQUEE_CATALOG,
    reloadMs: v.MARQUEE_RELOAD_MS,
    sourcesBucket: v.MARQUEE_SOURCES_BUCKET,
    derivativesBucket: v.MARQUEE_DERIVATIVES_BUCKET,
    region: v.AWS_REGION,
    s3Endpoint: v.MARQUEE_S3_ENDPOINT,
    generator: {
      functionName: v.MARQUEE_GENERATOR_FUNCTION,
      qualifier: v.MARQUEE_GENERATOR_QUALIFIER,
      endpoint: v.MARQUEE_LAMBDA_ENDPOINT,
      timeoutMs: v.MARQUEE_GENERATOR_TIMEOUT_MS,
      maxInFlight: v.MARQUEE_MAX_INFLIGHT,
      maxQueue: v.MARQUEE_MAX_QUEUE,
      queueTimeoutMs: v.MARQUEE_QUEUE_TIMEOUT_MS,
      throttleRetryMs: v.MARQUEE_THROTTLE_RETRY_MS,
    },
    cache: {
      maxBytes: v.MARQUEE_CACHE_BYTES,
      maxEntryBytes: v.MARQUEE_CACHE_MAX_ENTRY_BYTES,
    },
    store: {
      enabled: v.MARQUEE_STORE,
      readTimeoutMs: v.MARQUEE_STORE_READ_TIMEOUT_MS,
      writes: v.MARQUEE_STORE_WRITES,
    },
    invalidation: parseInvalidationTarget(v.MARQUEE_INVALIDATION),
    cacheTagHeader: v.MARQUEE_CACHE_TAG_HEADER.toLowerCase(),
    prewarm: {
      share: v.MARQUEE_PREWARM_SHARE,
      onReload: v.MARQUEE_PREWARM_ON_RELOAD,
    },
    maxEventLoopDelayMs: v.MARQUEE_MAX_EVENT_LOOP_DELAY_MS,
    // Local defaults are generated per process, never committed; production sets both.
    signingKey: signingKey ?? randomBytes(32).toString('base64url'),
    studioToken: studioToken ?? randomBytes(18).toString('base64url'),
    generated: { signingKey: signingKey === undefined, studioToken: studioToken === undefined },
    studioSecureCookie: v.MARQUEE_STUDIO_SECURE_COOKIE ?? production,
  };
  return {
    ...base,
    ...overrides,
    generator: { ...base.generator, ...overrides.generator },
    cache: { ...base.cache, ...overrides.cache },
    store: { ...base.store, ...overrides.store },
    prewarm: { ...base.prewarm, ...overrides.prewarm },
  };
}
