import { LogLevelVar, Type, readEnv, type Env, type Static } from '@marquee/shared';

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
