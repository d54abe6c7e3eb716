import {
  DERIVATIVES_PREFIX,
  MarqueeError,
  derivativeKey,
  specKey,
  type GeneratorRequest,
  type S3Ref,
} from '@marquee/shared';
import type { Deps } from './deps.js';
import { loadS3Module } from './source/s3.js';

/** Derivatives are named by their spec key, so they never change: cache them for a year. */
export const DERIVATIVE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * Where a render is kept, or undefined when it is only streamed back. An event may name the
 * object (`output`), but only inside the derivatives prefix of the configured bucket: whoever can
 * invoke the function must not be able to overwrite anything else. A prewarm render
 * (`store: true`) without `output` is named here, with the same builder and spec key the
 * Preprocessor uses (the event's `version` included), so direct invokers need not name it.
 * Checked before any work: a render that cannot be kept where it was asked is refused at once.
 */
export function derivativeTarget(request: GeneratorRequest, deps: Deps): S3Ref | undefined {
  if (request.output !== undefined) return checkOutputTarget(request.output.s3, deps);
  if (request.store !== true) return undefined;
  const bucket = deps.config.derivativesBucket;
  if (bucket === undefined)
    throw new MarqueeError('INVALID_SPEC', 'store: true needs a derivatives bucket, and none is configured');
  return { bucket, key: derivativeKey(specKey(request.source, request.spec, request.version), request.spec.format) };
}

/** An output object an event names: only inside the derivatives prefix of the configured bucket, no `..`. */
export function checkOutputTarget(s3: S3Ref, deps: Deps): S3Ref {
  const bucket = deps.config.derivativesBucket;
  if (bucket === undefined || s3.bucket !== bucket || !s3.key.startsWith(DERIVATIVES_PREFIX) || s3.key.includes('..')) {
    throw new MarqueeError(
      'INVALID_SPEC',
      `output must be under s3://${bucket ?? '<derivatives bucket>'}/${DERIVATIVES_PREFIX}`,
    );
  }
  return s3;
}

export async function putDerivative(target: S3Ref, data: Buffer, contentType: string, deps: Deps): Promise<void> {
  try {
    const [client, { PutObjectCommand }] = await Promise.all([deps.s3Client(), loadS3Module()]);
    await client.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        Body: data,
        ContentType: contentType,
        ContentLength: data.length,
        CacheControl: DERIVATIVE_CACHE_CONTROL,
      }),
      { abortSignal: AbortSignal.timeout(deps.config.fetchTimeoutMs * 2) },
    );
  } catch (err) {
    throw new MarqueeError('GENERATOR_FAILED', `could not store the output at s3://${target.bucket}/${target.key}`, {
      cause: err,
    });
  }
}
