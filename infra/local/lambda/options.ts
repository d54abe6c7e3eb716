import { existsSync } from 'node:fs';
import { dirname, isAbsolute, basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { GENERATOR_RUNTIME, childEnv } from '@marquee/shared';

/** One function the endpoint serves. */
export interface LocalFunctionOptions {
  /** The handler module: an absolute path or a `file:` URL (as `import.meta.resolve` returns). */
  handler: string;
  /** The handler's export. Default `handler`. */
  exportName?: string;
  /** Extra environment for the function, over the Lambda-like variables (`undefined` values are dropped). */
  env?: Record<string, string | undefined>;
  /**
   * Memory in MB: `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, the child's `--max-old-space-size`, and (on Linux)
   * the resident set past which the environment is killed, as Lambda kills it. Default 1024.
   */
  memoryMb?: number;
  /** Per-invocation timeout. Default 30 000 ms. */
  timeoutMs?: number;
  /** This function's reserved concurrency; default the endpoint's `concurrency`. */
  concurrency?: number;
  /**
   * Publish the code as version 1 at start and point this alias at it, as a deployment leaves a
   * function (`npm start`: `live`). Without it only `$LATEST` exists until `PublishVersion`.
   */
  publishAs?: string;
}

export interface LocalLambdaOptions {
  host?: string;
  port?: number;
  functions: Record<string, LocalFunctionOptions>;
  /** Most execution environments per function. Default 4. */
  concurrency?: number;
  /** A warm environment idle this long is reaped. Default 5 minutes. */
  idleMs?: number;
  /** Reported in ARNs and `AWS_REGION`. Default `us-east-1`. */
  region?: string;
  /** Whether children inherit this process's environment (local credentials, log level). Default true. */
  inheritEnv?: boolean;
  /** How long `close()` lets running invocations finish before killing them. Default 2000 ms. */
  closeGraceMs?: number;
  /** Where the functions' stdout/stderr go. Default this process's. */
  stdout?: Writable;
  stderr?: Writable;
  logger?: Logger;
}

/** Lambda's own bounds on function settings. */
const MEMORY_MB = { min: 128, max: 10_240 };
const TIMEOUT_MS = { min: 1, max: 900_000 };
/** Lambda's function-name pattern (the name part of an ARN). */
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  exportName: 'handler',
  memoryMb: 1024,
  timeoutMs: 30_000,
  concurrency: 4,
  idleMs: 5 * 60_000,
  region: 'us-east-1',
  closeGraceMs: 2000,
} as const;

export interface ResolvedFunction {
  name: string;
  handler: string;
  exportName: string;
  memoryMb: number;
  timeoutMs: number;
  concurrency: number;
  env: Record<string, string>;
}

function integerIn(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`local lambda: ${what} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function handlerPath(name: string, handler: string): string {
  const path = handler.startsWith('file:') ? fileURLToPath(handler) : handler;
  if (!isAbsolute(path))
    throw new Error(`local lambda: function ${name}: handler must be an absolute path, got "${handler}"`);
  if (!existsSync(path)) throw new Error(`local lambda: function ${name}: handler module not found: ${path}`);
  return path;
}

function baseEnv(inherit: boolean): Record<string, string> {
  if (!inherit) return {};
  const env = childEnv();
  // The parent's loader hooks (tsx, test coverage) are not the function's.
  delete env.NODE_OPTIONS;
  return env;
}

/** The environment Lambda's Node.js runtime gives a function, then the function's own. */
function lambdaEnv(
  fn: Omit<ResolvedFunction, 'env'>,
  region: string,
  extra: Record<string, string | undefined>,
  inherit: boolean,
): Record<string, string> {
  const module = basename(fn.handler, extname(fn.handler));
  const own = Object.fromEntries(
    Object.entries(extra).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return {
    ...baseEnv(inherit),
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${fn.name}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: `AWS_Lambda_${GENERATOR_RUNTIME}`,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    LAMBDA_TASK_ROOT: dirname(fn.handler),
    _HANDLER: `${module}.${fn.exportName}`,
    TZ: 'UTC',
    ...own,
  };
}

/** Validates the options at start-up: a bad value stops the endpoint with a precise message. */
export function resolveFunctions(options: LocalLambdaOptions): ResolvedFunction[] {
  const names = Object.keys(options.functions);
  if (names.length === 0) throw new Error('local lambda: at least one function is required');
  const region = options.region ?? DEFAULTS.region;
  const defaultConcurrency = integerIn('concurrency', options.concurrency ?? DEFAULTS.concurrency, 1, 1000);
  return names.map((name) => {
    if (!FUNCTION_NAME.test(name))
      throw new Error(`local lambda: invalid function name "${name}" (Lambda allows [A-Za-z0-9_-]{1,64})`);
    const fn = options.functions[name] as LocalFunctionOptions;
    const resolved = {
      name,
      handler: handlerPath(name, fn.handler),
      exportName: fn.exportName ?? DEFAULTS.exportName,
      memoryMb: integerIn(`${name}.memoryMb`, fn.memoryMb ?? DEFAULTS.memoryMb, MEMORY_MB.min, MEMORY_MB.max),
      timeoutMs: integerIn(`${name}.timeoutMs`, fn.timeoutMs ?? DEFAULTS.timeoutMs, TIMEOUT_MS.min, TIMEOUT_MS.max),
      concurrency: integerIn(`${name}.concurrency`, fn.concurrency ?? defaultConcurrency, 1, 1000),
    };
    return { ...resolved, env: lambdaEnv(resolved, region, fn.env ?? {}, options.inheritEnv ?? true) };
  });
}

export function defaultLogger(): Logger {
  return pino({ level: 'silent' });
}
