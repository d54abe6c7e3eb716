import { LogLevelVar, Type, readEnv, type Env, type Static } from '@marquee/shared';
import { DEFAULT_CDN_PORT } from '../cdn/varnish.js';

/** `npm start`'s own variables (the Preprocessor's are read by its config, on top of these). */
export const LocalStackEnv = Type.Object({
  LOG_LEVEL: LogLevelVar({ default: 'info' }),
  HOST: Type.String({ default: '127.0.0.1', description: 'where the Preprocessor listens' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'the Preprocessor (0: any free port)' }),
  MARQUEE_LOCAL_S3_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 4569, description: 'the local S3' }),
  MARQUEE_LOCAL_LAMBDA_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 9001,
    description: 'the local Lambda endpoint',
  }),
  MARQUEE_LOCAL_CDN_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: DEFAULT_CDN_PORT,
    description: 'Varnish, with --cdn (0: any free port)',
  }),
  MARQUEE_DATA_DIR: Type.String({ default: '.data', description: "s3rver's objects" }),
  MARQUEE_LOCAL_LAMBDA_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 4,
    description: 'Generator environments',
  }),
  MARQUEE_LOCAL_LAMBDA_TIMEOUT_S: Type.Integer({
    minimum: 1,
    maximum: 900,
    default: 30,
    description: 'per invocation, as Lambda',
  }),
  MARQUEE_LOCAL_LAMBDA_MEMORY_MB: Type.Integer({
    minimum: 128,
    maximum: 10240,
    default: 1536,
    description: "each environment's resident memory, enforced as Lambda does",
  }),
});

export type LocalStackSettings = Static<typeof LocalStackEnv>;

export function localStackSettings(env?: Env): LocalStackSettings {
  return readEnv(LocalStackEnv, env);
}

/** s3rver accepts any credentials; the SDKs still want some to sign with. */
export const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

/**
 * The AWS SDK clients made in this process (the Preprocessor's) find credentials and region in
 * the environment: local ones are filled in where none are set. Returns the region in force.
 */
export function useLocalAwsDefaults(): string {
  for (const [name, value] of Object.entries(LOCAL_CREDENTIALS)) process.env[name] ??= value;
  process.env.AWS_REGION ??= 'us-east-1';
  return process.env.AWS_REGION;
}

/** Whether the operator chose the Preprocessor's in-flight cap (else the stack matches it to the local Lambda). */
export function maxInFlightChosen(env: Env = process.env): boolean {
  return env.MARQUEE_MAX_INFLIGHT !== undefined && env.MARQUEE_MAX_INFLIGHT !== '';
}

/**
 * The AWS SDK's own warning that its releases after January 2027 need Node 22, turned off: the
 * stack says it once per start (`nodeSupportNotice`), where it would otherwise come once from this
 * process and once from each Generator environment. Given to the environments with their variables.
 */
export const SDK_NODE_WARNING_OFF = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } as const;

/** The first Node major the AWS SDK supports after the first week of January 2027. */
const SDK_NODE_FLOOR = 22;

/** Turns the SDK's warning off for this process's clients (the Preprocessor's); call before any is made. */
export function quietSdkNodeWarning(): void {
  for (const [name, value] of Object.entries(SDK_NODE_WARNING_OFF)) process.env[name] ??= value;
}

/** What to tell a person running on a Node the SDK will leave behind; undefined on a current one. */
export function nodeSupportNotice(version: string = process.version): string | undefined {
  const major = Number(/^v(\d+)/.exec(version)?.[1]);
  if (!(major < SDK_NODE_FLOOR)) return undefined;
  return (
    `Node ${version}: Marquee runs on it, but the AWS SDK releases after the first week of January 2027 ` +
    `need Node ${SDK_NODE_FLOOR} or later. Install Node ${SDK_NODE_FLOOR} (nvm install ${SDK_NODE_FLOOR}) and run npm ci again.`
  );
}

/** Where `npm start` was typed (npm runs scripts from the repository's root and says where in INIT_CWD). */
export function invocationDir(env?: Env): string {
  const Npm = Type.Object({ INIT_CWD: Type.Optional(Type.String({ description: 'set by npm: where it was run' })) });
  return readEnv(Npm, env).INIT_CWD ?? process.cwd();
}
