/**
 * Configuration from the environment, one way for every service and CLI.
 *
 * Each program declares its variables once, as a TypeBox object schema whose keys are the
 * variable names and whose properties say the type, default, range and meaning. `readEnv` reads
 * them from text strictly (numbers are written one way only, as in `numbers.ts`) and reports
 * every bad variable at once in one `ConfigError`, one line each, fit to print as-is. This is the
 * only module that reads `process.env` (a test holds the services to it), so a variable that is
 * in no schema configures nothing.
 */
import { Kind, OptionalKind, Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
// Named imports, not the `Value` namespace, so that a bundle (the Generator's) can leave the rest out.
import { Check, Default } from '@sinclair/typebox/value';
import { quoteInput, readFraction, readInteger } from './numbers.js';

/** The schema builder, re-exported: a package declaring its variables needs no TypeBox dependency of its own. */
export { Type, type Static } from '@sinclair/typebox';

/** Variables as a process receives them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What a variable's schema may carry beyond JSON Schema (TypeBox keeps unknown options). */
export interface EnvOptions {
  /** What a good value looks like, for the error line (`an S3 bucket name`); derived from the schema when absent. */
  expected?: string;
  /** Reads the text in place of the reading by type; `undefined` refuses it. May normalise (lower-case a host). */
  parse?: (text: string) => unknown;
  /** Never echoed in an error (keys, tokens): the line gives the length instead. */
  secret?: boolean;
}

/** A bad configuration: `problems` has one line per bad variable, `message` all of them, ready for stderr. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const lines = typeof problems === 'string' ? [problems] : [...problems];
    super(lines.join('\n'));
    this.problems = lines;
  }
}

/** The one error line: `MARQUEE_MAX_INFLIGHT must be an integer ≥ 1, got "-3"`. */
export function configProblem(name: string, expected: string, got: unknown, secret = false): string {
  if (secret && typeof got === 'string') return `${name} must be ${expected}, got ${got.length} characters (not shown)`;
  return `${name} must be ${expected}, got ${quoteInput(got)}`;
}

/** pino's levels: both services log with pino. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A log level variable (`LOG_LEVEL`): one of pino's level names, lower case. */
export function LogLevelVar(options: { default?: LogLevel; description?: string } = {}) {
  return Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { description: 'pino log level', ...options },
  );
}

/** An S3 bucket name as S3 spells them (no upper case: `Art` is not the bucket `art`). */
export function BucketVar(options: { default?: string; description?: string } = {}) {
  return Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', expected: 'an S3 bucket name', ...options });
}

/** An http(s) URL (a custom endpoint), kept as written. */
export function HttpUrlVar(options: { default?: string; description?: string } = {}) {
  return Type.String({ parse: httpUrl, expected: 'an http(s) URL', ...options });
}

function httpUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? text : undefined;
  } catch {
    return undefined;
  }
}

function isOptional(schema: TSchema): boolean {
  return schema[OptionalKind] === 'Optional';
}

function literals(schema: TSchema): unknown[] | undefined {
  if (schema[Kind] === 'Literal') return [schema.const as unknown];
  if (schema[Kind] !== 'Union') return undefined;
  const members = schema.anyOf as TSchema[];
  return members.every((m) => m[Kind] === 'Literal') ? members.map((m): unknown => m.const) : undefined;
}

/** What a good value looks like, from the schema: the second half of every error line. */
export function expectedOf(schema: TSchema): string {
  if (typeof schema.expected === 'string') return schema.expected;
  const kind = schema[Kind];
  if (kind === 'Integer') {
    const min = (schema.minimum as number | undefined) ?? 0;
    const max = schema.maximum as number | undefined;
    return max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  }
  if (kind === 'Number')
    return `a decimal from ${(schema.minimum as number | undefined) ?? 0} to ${(schema.maximum as number | undefined) ?? 1} (like 0.25)`;
  if (kind === 'Boolean') return 'true, false, 1 or 0';
  const values = literals(schema);
  if (values !== undefined) return values.length === 1 ? String(values[0]) : `one of ${values.join(', ')}`;
  if (kind === 'Array') return `comma-separated entries, each ${expectedOf(schema.items as TSchema)}`;
  if (kind === 'String' && typeof schema.minLength === 'number') return `at least ${schema.minLength} characters`;
  if (kind === 'String' && typeof schema.pattern === 'string') return `text matching /${schema.pattern}/`;
  return kind === 'String' ? 'text' : 'a valid value';
}

/**
 * The value `text` spells for this schema, or undefined. Integers and fractions are read by
 * `readInteger`/`readFraction` (digits only: no ` 5`, `0x10`, `1e3`, sign or exponent), booleans
 * from `true|false|1|0`, lists split on commas with each entry trimmed and read by the item schema.
 */
function readText(name: string, schema: TSchema, text: string): unknown {
  if (typeof schema.parse === 'function') {
    try {
      return (schema.parse as (text: string) => unknown)(text);
    } catch {
      return undefined;
    }
  }
  switch (schema[Kind]) {
    case 'Integer':
      return readInteger(
        text,
        (schema.minimum as number | undefined) ?? 0,
        (schema.maximum as number | undefined) ?? Number.MAX_SAFE_INTEGER,
      );
    case 'Number':
      return readFraction(text);
    case 'Boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : undefined;
    case 'String':
    case 'Literal':
    case 'Union':
      return text;
    default:
      // A schema this module cannot read is a programming mistake, not a bad environment.
      throw new TypeError(`env: ${name}: no reading from text for a ${String(schema[Kind])} schema`);
  }
}

/** The value, or the error line. */
function readVariable(name: string, schema: TSchema, text: string): { value: unknown } | { problem: string } {
  const refuse = (got: string) => ({ problem: configProblem(name, expectedOf(schema), got, schema.secret === true) });
  if (schema[Kind] === 'Array') {
    const item = schema.items as TSchema;
    const entries = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const values: unknown[] = [];
    for (const entry of entries) {
      const value = readText(name, item, entry);
      if (value === undefined || !Check(item, value)) {
        return entries.length === 1
          ? refuse(entry)
          : { problem: `${configProblem(name, expectedOf(schema), entry)} in ${quoteInput(text)}` };
      }
      values.push(value);
    }
    return Check(schema, values) ? { value: values } : refuse(text);
  }
  const value = readText(name, schema, text);
  return value !== undefined && Check(schema, value) ? { value } : refuse(text);
}

/**
 * Reads every variable of `schema` from `env`, defaults filled in, and the problems found (one
 * line each). A bad variable is left at its default and named in `refused`, so further rules
 * (`X must be set in production`) can add their lines, without repeating one, before one
 * `ConfigError` is thrown; use `readEnv` when there are none. An empty value is an unset one
 * (`VAR= cmd` falls back to the default).
 */
export function parseEnv<T extends TObject>(
  schema: T,
  env: Env = process.env,
): { values: Static<T>; problems: string[]; refused: ReadonlySet<string> } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  const refused = new Set<string>();
  for (const [name, variable] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const text = env[name];
    if (text === undefined || text === '') {
      if (!isOptional(variable) && !('default' in variable)) {
        problems.push(`${name} must be set to ${expectedOf(variable)}`);
        refused.add(name);
      }
      continue;
    }
    const read = readVariable(name, variable, text);
    if ('value' in read) values[name] = read.value;
    else {
      problems.push(read.problem);
      refused.add(name);
    }
  }
  return { values: Default(schema, values) as Static<T>, problems, refused };
}

/** Reads every variable of `schema`; throws one `ConfigError` listing every bad one. */
export function readEnv<T extends TObject>(schema: T, env: Env = process.env): Static<T> {
  const { values, problems } = parseEnv(schema, env);
  if (problems.length > 0) throw new ConfigError(problems);
  return values;
}

/**
 * Variables named with `prefix` that none of the schemas declares: most likely typos
 * (`MARQUEE_MAX_INFLIGT`). Not an error: processes share environments (the embedded stack's
 * Generator inherits the Preprocessor's), so an entry point decides whether to warn.
 */
export function unknownVariables(
  schemas: TObject | readonly TObject[],
  env: Env = process.env,
  prefix = 'MARQUEE_',
): string[] {
  const known = new Set(
    (Array.isArray(schemas) ? schemas : [schemas]).flatMap((s: TObject) => Object.keys(s.properties)),
  );
  return Object.keys(env)
    .filter((name) => name.startsWith(prefix) && !known.has(name) && env[name] !== undefined)
    .sort();
}

/** One row per variable, as the README's configuration tables give them. */
export interface EnvVariable {
  name: string;
  expected: string;
  default: unknown;
  optional: boolean;
  description: string | undefined;
}

export function describeEnv(schema: TObject): EnvVariable[] {
  return Object.entries(schema.properties as Record<string, TSchema>).map(([name, variable]) => ({
    name,
    expected: expectedOf(variable),
    default: variable.default as unknown,
    optional: isOptional(variable),
    description: variable.description,
  }));
}

/**
 * The environment a child process gets: this one's, plus `extra` (undefined values dropped).
 * Passing the environment on is not reading configuration; it lives here so that nothing else
 * needs to touch `process.env`.
 */
export function childEnv(extra: Env = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of [process.env, extra]) {
    for (const [name, value] of Object.entries(source)) if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Silences the AWS SDK's notice about the Node release, for a tool whose SDK clients are not the
 * stack's (the stack gives the notice once, at `npm start`). An operator's own setting stands.
 */
export function quietSdkNodeNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * For a main entry point's or CLI's last catch: a `ConfigError` becomes its message on stderr
 * and exit code 1, never a stack trace (the operator's mistake is the variable, not the code).
 * Any other error is left to the caller.
 */
export function exitOnConfigError(err: unknown): void {
  if (!(err instanceof ConfigError)) return;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

/** Runs a start-up step (usually loading the config) under `exitOnConfigError`. */
export function configOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
}

/**
 * The `AWS_*` variables as the AWS SDK reads them itself (credentials, endpoints, FIPS and
 * dual-stack switches), for code that stands in for an SDK client and must see what it would.
 * They are the SDK's configuration, not ours: no schema of ours declares them.
 */
export function awsSdkEnv(): Env {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith('AWS_')) out[name] = value;
  return out;
}
