import { randomBytes } from 'node:crypto';

/**
 * The Preprocessor's one typed config: explicit option, then environment, then default.
 * A bad value stops start-up with a message naming the variable. Nothing else reads process.env.
 */
export interface PreprocessorConfig {
  host: string;
  port: number;
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

export type ConfigOverrides = Partial<Omit<PreprocessorConfig, 'generator' | 'cache'>> & {
  generator?: Partial<PreprocessorConfig['generator']>;
  cache?: Partial<PreprocessorConfig['cache']>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name}: expected ${min}..${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
  return raw === 'true';
}

const MiB = 1024 * 1024;

export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): PreprocessorConfig {
  const signingKey = optional(env, 'MARQUEE_SIGNING_KEY');
  const studioToken = optional(env, 'MARQUEE_STUDIO_TOKEN');
  const base: PreprocessorConfig = {
    host: str(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 8080, 0, 65535),
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    rules: str(env, 'MARQUEE_RULES', new URL('../config/rules.yaml', import.meta.url).pathname),
    catalog: str(env, 'MARQUEE_CATALOG', 's3://marquee-sources/catalog.json'),
    reloadMs: int(env, 'MARQUEE_RELOAD_MS', 5000, 100, 3_600_000),
    sourcesBucket: str(env, 'MARQUEE_SOURCES_BUCKET', 'marquee-sources'),
    derivativesBucket: optional(env, 'MARQUEE_DERIVATIVES_BUCKET'),
    region: str(env, 'AWS_REGION', 'us-east-1'),
    s3Endpoint: optional(env, 'MARQUEE_S3_ENDPOINT'),
    generator: {
      functionName: str(env, 'MARQUEE_GENERATOR_FUNCTION', 'marquee-generator'),
      qualifier: optional(env, 'MARQUEE_GENERATOR_QUALIFIER'),
      endpoint: optional(env, 'MARQUEE_LAMBDA_ENDPOINT'),
      timeoutMs: int(env, 'MARQUEE_GENERATOR_TIMEOUT_MS', 25_000, 100, 900_000),
      maxInFlight: int(env, 'MARQUEE_MAX_INFLIGHT', 32, 1, 10_000),
      maxQueue: int(env, 'MARQUEE_MAX_QUEUE', 64, 0, 100_000),
      queueTimeoutMs: int(env, 'MARQUEE_QUEUE_TIMEOUT_MS', 3000, 0, 900_000),
      throttleRetryMs: int(env, 'MARQUEE_THROTTLE_RETRY_MS', 2000, 0, 900_000),
    },
    cache: {
      maxBytes: int(env, 'MARQUEE_CACHE_BYTES', 256 * MiB, 0, 64 * 1024 * MiB),
      maxEntryBytes: int(env, 'MARQUEE_CACHE_MAX_ENTRY_BYTES', 8 * MiB, 1, 1024 * MiB),
    },
    maxEventLoopDelayMs: int(env, 'MARQUEE_MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
    // Local defaults are generated per process, never committed; production sets both.
    signingKey: signingKey ?? randomBytes(32).toString('base64url'),
    studioToken: studioToken ?? randomBytes(18).toString('base64url'),
    generated: { signingKey: signingKey === undefined, studioToken: studioToken === undefined },
    studioSecureCookie: bool(env, 'MARQUEE_STUDIO_SECURE_COOKIE', env.NODE_ENV === 'production'),
  };
  const config: PreprocessorConfig = {
    ...base,
    ...overrides,
    generator: { ...base.generator, ...overrides.generator },
    cache: { ...base.cache, ...overrides.cache },
  };
  // Several instances each generating a key would sign URLs the others refuse: production sets them.
  if (env.NODE_ENV === 'production' && (config.generated.signingKey || config.generated.studioToken)) {
    throw new ConfigError('MARQUEE_SIGNING_KEY and MARQUEE_STUDIO_TOKEN must be set when NODE_ENV=production');
  }
  if (config.signingKey.length < 16) throw new ConfigError('MARQUEE_SIGNING_KEY: at least 16 characters');
  if (config.studioToken.length < 12) throw new ConfigError('MARQUEE_STUDIO_TOKEN: at least 12 characters');
  return config;
}
