/**
 * `--local` for the CLIs (`npm run prewarm`, `npm run rules`): where the embedded stack
 * (`npm start [-- --cdn]`) listens and keeps its documents, so that no environment is copied by
 * hand. The stack writes no state file: its ports are its defaults, or the variables it was started
 * with (`MARQUEE_LOCAL_S3_PORT`, `MARQUEE_LOCAL_LAMBDA_PORT`, `MARQUEE_LOCAL_CDN_PORT`, `PORT`),
 * read here through the env module as the stack reads them. Anything the Preprocessor's own
 * variables set (an endpoint, a bucket, the rules) stands; `--local` fills in the rest.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Type, readEnv, type Env, type Static } from '@marquee/shared';
import { PreprocessorEnv, type PreprocessorConfig } from '../config.js';

const Port = (fallback: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 65535, default: fallback, description });

/** The stack's ports and Lambda size, as `npm start` reads them (infra/local/stack/env.ts), with its defaults. */
export const LocalStackEnv = Type.Object({
  PORT: Port(8080, 'the embedded Preprocessor'),
  MARQUEE_LOCAL_S3_PORT: Port(4569, 'the embedded local S3'),
  MARQUEE_LOCAL_LAMBDA_PORT: Port(9001, 'the embedded local Lambda endpoint'),
  MARQUEE_LOCAL_CDN_PORT: Port(8081, 'the embedded Varnish (npm start -- --cdn)'),
  MARQUEE_LOCAL_LAMBDA_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 4,
    description: "the embedded Lambda's environments",
  }),
});
export type LocalStackSettings = Static<typeof LocalStackEnv>;

/** Where the stack listens and what it serves. */
export interface LocalStack {
  s3Endpoint: string;
  lambdaEndpoint: string;
  preprocessor: string;
  /** Varnish's address; whether it runs is `findVarnish`'s to say. */
  cdn: string;
  derivativesBucket: string;
  /** Where the stack keeps the rules (a rules publish writes there): infra/local's RULES_KEY. */
  rules: string;
  /** s3rver accepts any credentials; the SDKs still want some to sign with. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Environments the stack's Lambda runs: its Preprocessor's live misses and a CLI's prewarm share them. */
  lambdaConcurrency: number;
}

const HOST = '127.0.0.1';

export function localStack(env?: Env): LocalStack {
  const ports = readEnv(LocalStackEnv, env);
  const at = (port: number) => `http://${HOST}:${port}`;
  return {
    s3Endpoint: at(ports.MARQUEE_LOCAL_S3_PORT),
    lambdaEndpoint: at(ports.MARQUEE_LOCAL_LAMBDA_PORT),
    preprocessor: at(ports.PORT),
    cdn: at(ports.MARQUEE_LOCAL_CDN_PORT),
    derivativesBucket: 'marquee-derivatives',
    rules: 's3://marquee-sources/rules/rules.yaml',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    lambdaConcurrency: ports.MARQUEE_LOCAL_LAMBDA_CONCURRENCY,
  };
}

/**
 * Renders a CLI's prewarm runs at once against the stack: the prewarm share
 * (`MARQUEE_PREWARM_SHARE`) of the stack's Lambda environments, at least one. The rest stay free
 * for the live misses of the stack's Preprocessor, which knows nothing of this process's renders.
 */
export function localPrewarmConcurrency(local: LocalStack, config: Pick<PreprocessorConfig, 'prewarm'>): number {
  return Math.max(1, Math.floor(local.lambdaConcurrency * config.prewarm.share));
}

/**
 * The Preprocessor's configuration pointed at the stack where it says nothing itself. The shipped
 * rules file is the default only where nothing else is said: the stack reads its own copy.
 */
export function withLocalStack(base: PreprocessorConfig, local: LocalStack, rulesGiven = false): PreprocessorConfig {
  const defaultRules = base.rules === PreprocessorEnv.properties.MARQUEE_RULES.default;
  return {
    ...base,
    rules: !rulesGiven && defaultRules ? local.rules : base.rules,
    s3Endpoint: base.s3Endpoint ?? local.s3Endpoint,
    derivativesBucket: base.derivativesBucket ?? local.derivativesBucket,
    generator: { ...base.generator, endpoint: base.generator.endpoint ?? local.lambdaEndpoint },
  };
}

/** The S3 and Lambda clients of a CLI: the stack's credentials with `--local`, else the SDK's chain. */
export function cliClients(
  config: PreprocessorConfig,
  local: LocalStack | undefined,
): { s3: S3Client; lambda: LambdaClient } {
  const credentials = local ? { credentials: local.credentials } : {};
  return {
    s3: new S3Client({
      region: config.region,
      ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}),
      ...credentials,
    }),
    lambda: new LambdaClient({
      region: config.region,
      // One attempt: the prewarm engine retries load refusals itself, with its own backoff.
      maxAttempts: 1,
      ...(config.generator.endpoint ? { endpoint: config.generator.endpoint } : {}),
      ...credentials,
    }),
  };
}

/**
 * The stack's Varnish when it answers (`npm start -- --cdn`), else undefined: its VCL passes
 * /healthz to the Preprocessor and marks the reply with `X-CDN`.
 */
export async function findVarnish(local: LocalStack, timeoutMs = 1000): Promise<string | undefined> {
  const answers = await fetch(`${local.cdn}/healthz`, { signal: AbortSignal.timeout(timeoutMs) }).then(
    (res) => res.headers.get('x-cdn') !== null,
    () => false,
  );
  return answers ? local.cdn : undefined;
}
