import type { S3Client } from '@aws-sdk/client-s3';
import { MarqueeError, type S3Ref } from '@marquee/shared';
import type { GeneratorConfig } from '../config.js';
import { declaredLength, readSource, tooLarge } from './limit.js';
import type { Reuse, SourceCache } from './cache.js';

type S3Module = typeof import('@aws-sdk/client-s3');
let s3Module: Promise<S3Module> | undefined;

/**
 * The AWS SDK is the heaviest module in the bundle; it is loaded on first use
 * only, so an invocation that never touches S3 (HTTP source, inline output)
 * does not pay for it. Once loaded it stays loaded for the environment.
 */
export function loadS3Module(): Promise<S3Module> {
  s3Module ??= import('@aws-sdk/client-s3');
  return s3Module;
}

/** One client per environment, created on first use. */
export function lazyS3Client(config: GeneratorConfig): () => Promise<S3Client> {
  let client: Promise<S3Client> | undefined;
  return () => {
    client ??= loadS3Module().then(
      ({ S3Client }) =>
        new S3Client({
          region: config.region,
          ...(config.s3Endpoint === undefined ? {} : { endpoint: config.s3Endpoint, forcePathStyle: true }),
          // One retry: the whole invocation has a fetch budget of a few seconds.
          maxAttempts: 2,
        }),
    );
    return client;
  };
}

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function classify(err: unknown, ref: S3Ref): MarqueeError {
  const e = (err ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  const where = `s3://${ref.bucket}/${ref.key}`;
  if (
    e.name === 'NoSuchKey' ||
    e.name === 'NoSuchBucket' ||
    e.name === 'NoSuchVersion' ||
    e.name === 'NotFound' ||
    status === 404
  ) {
    return new MarqueeError('SOURCE_NOT_FOUND', `source not found: ${where}`, { cause: err });
  }
  if (e.name === 'AccessDenied' || status === 403) {
    return new MarqueeError('SOURCE_NOT_ALLOWED', `source access denied: ${where}`, { cause: err });
  }
  return new MarqueeError('SOURCE_FETCH_FAILED', `source fetch failed: ${where}`, { cause: err });
}

function notModified(err: unknown): boolean {
  const e = (err ?? {}) as SdkError;
  return e.$metadata?.httpStatusCode === 304 || e.name === 'NotModified';
}

/** What `fetchS3` reads of a GetObject reply (the SDK's output fields, as it names them). */
export interface S3ObjectReply {
  ETag?: string;
  ContentLength?: number;
  Body?: unknown;
}

/**
 * One GetObject, conditional when `ifNoneMatch` is given. It fails as the SDK does: an error
 * with `name` (S3's code) and `$metadata.httpStatusCode` (304 for "not modified").
 */
export type S3GetObject = (ref: S3Ref, ifNoneMatch: string | undefined, signal: AbortSignal) => Promise<S3ObjectReply>;

/** GetObject through the SDK client (loaded and created on first use). */
export function sdkGetObject(client: S3Client, module: S3Module): S3GetObject {
  return (ref, ifNoneMatch, signal) =>
    client.send(
      new module.GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        VersionId: ref.versionId,
        IfNoneMatch: ifNoneMatch,
      }),
      { abortSignal: signal },
    );
}

/**
 * GetObject, streamed with a byte cap. Aborting `signal` stops the request and the body.
 * With a cache, a source seen before is asked for conditionally (If-None-Match) and a 304
 * answers from memory.
 */
export async function fetchS3(
  ref: S3Ref,
  getObject: S3GetObject,
  maxBytes: number,
  signal: AbortSignal,
  cache?: SourceCache,
  reuse: Reuse = {},
): Promise<Buffer> {
  const cacheKey = `${ref.bucket}\u0000${ref.key}\u0000${ref.versionId ?? ''}`;
  // Pinned (an S3 object version, the catalog version asked for) or fresh bytes need no round trip.
  const reusable = cache?.reusable(cacheKey, ref.versionId !== undefined, reuse);
  if (reusable !== undefined) return reusable;
  const cached = cache?.get(cacheKey);
  let body: (AsyncIterable<Uint8Array> & { destroy?: () => void; on?: (e: string, f: () => void) => void }) | undefined;
  // A body destroyed before its end may emit 'error'; nobody needs it any more.
  const destroy = () => {
    body?.on?.('error', () => {});
    body?.destroy?.();
  };
  try {
    const out = await getObject(ref, cached?.etag, signal);
    body = out.Body as typeof body;
    const length = declaredLength(out.ContentLength);
    if (length !== undefined && length > maxBytes) {
      destroy();
      throw tooLarge(maxBytes);
    }
    if (body === undefined) throw new MarqueeError('SOURCE_FETCH_FAILED', 'source fetch failed: empty body');
    const bytes = await readSource(body, maxBytes, destroy);
    if (cache && out.ETag) cache.set(cacheKey, out.ETag, bytes, reuse.version);
    return bytes;
  } catch (err) {
    destroy();
    if (cached && notModified(err)) {
      // Unchanged: confirmed now, and from now on also the bytes for the version asked for.
      cache?.set(cacheKey, cached.etag, cached.body, reuse.version ?? cached.version);
      return cached.body;
    }
    if (err instanceof MarqueeError) throw err;
    if (signal.aborted) throw signal.reason;
    throw classify(err, ref);
  }
}
