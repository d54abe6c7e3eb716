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

/** Bytes of `n` raw bytes once base64-encoded. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Whether a result with this envelope and body fits inline under the configured limit. */
export function fitsInline(envelope: object, bytes: number, maxInlineBytes: number): boolean {
  // `"body":"…",` around the base64 text, plus coldStart which the handler adds.
  const overhead = Buffer.byteLength(JSON.stringify({ ...envelope, body: '', coldStart: false }));
  return overhead + base64Length(bytes) <= maxInlineBytes;
}

/**
 * Where an output too large to return inline goes, or undefined when nowhere is configured.
 * An event may name the object, but only inside the derivatives prefix of the configured
 * bucket: whoever can invoke the function must not be able to overwrite anything else.
 *
 * Without `output` the Generator names the object itself, with the same builder and the same
 * spec key the Preprocessor uses, so the event's optional `version` is part of it. The
 * fallback stays (rather than `output` becoming required) because direct invocations (an
 * operator replaying an event, the Generator's own tests) rely on large outputs landing
 * somewhere; the Preprocessor always sends `output` when it has a derivatives bucket.
 */
export function derivativeTarget(request: GeneratorRequest, deps: Deps): S3Ref | undefined {
  const bucket = deps.config.derivativesBucket;
  if (request.output !== undefined) return checkOutputTarget(request.output.s3, deps);
  if (bucket === undefined) return undefined;
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
