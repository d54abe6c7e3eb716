import { BucketVar, LogLevelVar, Type, type Static } from '@marquee/shared';
import type { Watched } from './events.js';

/** Every variable the prewarm consumer reads; the CDK app (`lib/prewarm.ts`) sets each one. */
export const ConsumerEnv = Type.Object({
  MARQUEE_RULES: Type.String({ description: 'rules YAML: s3://bucket/key, or the copy in the bundle' }),
  MARQUEE_CATALOG: Type.String({
    pattern: '^s3://[^/]+/.+$',
    expected: 's3://bucket/key',
    description: 'catalog JSON',
  }),
  MARQUEE_SOURCES_BUCKET: BucketVar({ description: 'where sources live' }),
  MARQUEE_DERIVATIVES_BUCKET: BucketVar({ description: 'the derivative store' }),
  MARQUEE_ARTWORK_PREFIX: Type.String({ minLength: 1, description: 'key prefix of published artwork sources' }),
  MARQUEE_GENERATOR_FUNCTION: Type.String({ minLength: 1, description: 'the Generator' }),
  MARQUEE_GENERATOR_QUALIFIER: Type.String({ default: 'live', description: 'its alias' }),
  MARQUEE_GENERATOR_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 900_000, description: 'deadline per render' }),
  MARQUEE_PREWARM_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 1000,
    description: 'renders in flight per consumer invocation (its share of the Generator)',
  }),
  LOG_LEVEL: LogLevelVar({ default: 'info' }),
});
export type ConsumerEnv = Static<typeof ConsumerEnv>;

/** `s3://bucket/key` → its parts; anything else → undefined. */
export function s3Location(url: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  return m?.[1] !== undefined && m[2] !== undefined ? { bucket: m[1], key: m[2] } : undefined;
}

/** The objects whose events the consumer acts on, from its environment. */
export function watchedFrom(env: ConsumerEnv): Watched {
  const catalog = s3Location(env.MARQUEE_CATALOG);
  if (catalog === undefined) throw new Error(`MARQUEE_CATALOG must be s3://bucket/key, got ${env.MARQUEE_CATALOG}`);
  return {
    sourcesBucket: env.MARQUEE_SOURCES_BUCKET,
    artworkPrefix: env.MARQUEE_ARTWORK_PREFIX,
    catalog,
    rules: s3Location(env.MARQUEE_RULES),
  };
}
