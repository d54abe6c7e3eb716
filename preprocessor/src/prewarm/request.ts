import { derivativeKey, type GeneratorRequest, type ImageSpec, type Source } from '@marquee/shared';

/** What a prewarm render needs of a warm-set entry (a `WarmEntry` is one). */
export interface PrewarmTarget {
  /** The spec key. */
  key: string;
  source: Source;
  spec: ImageSpec;
  version: string;
}

/** The derivative object a prewarm render writes and the store check asks about. */
export function prewarmObjectKey(target: Pick<PrewarmTarget, 'key' | 'spec'>): string {
  return derivativeKey(target.key, target.spec.format);
}

/**
 * The Generator request of a prewarm render, the one both prewarm engines send (the Preprocessor's
 * `Prewarmer` and the AWS prewarm consumer): `store: true` with the object's name, so the Generator
 * writes the output as part of the render and replies with no body. `id` only names the render in
 * logs.
 */
export function prewarmRequest(target: PrewarmTarget, bucket: string, id: string): GeneratorRequest {
  return {
    v: 1,
    id,
    source: target.source,
    spec: target.spec,
    version: target.version,
    output: { s3: { bucket, key: prewarmObjectKey(target) } },
    store: true,
  };
}
