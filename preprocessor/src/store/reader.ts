import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Metrics } from '../plugins/metrics.js';
import { OutageLog, readCapped, type WarnLogger } from '@marquee/shared';

export interface DerivativeStoreOptions {
  s3: S3Client;
  /** The derivatives bucket. */
  bucket: string;
  /** Longest read (the whole body): past it the caller renders instead. */
  readTimeoutMs: number;
  /** Largest object read: a larger one is not served from the store (rendered instead). */
  maxBytes: number;
  metrics: Pick<Metrics, 'storeReads'>;
  logger: WarnLogger;
}

/** After a failed read, reads are skipped this long: an outage costs a miss one timeout, not every miss one. */
export const STORE_PAUSE_MS = 1000;

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || status(err) === 404;
}

/**
 * Reads the derivative store: renders kept in the derivatives bucket under `derivativeKey`, so
 * that another Preprocessor task, a restart or another region reuses a render. The Preprocessor
 * only reads it (the Generator writes). Every failure is a miss: the store is a shortcut, never a
 * reason for an error reply.
 */
export class DerivativeStore {
  private readonly outage: OutageLog;
  private pausedUntil = 0;
  private deniedLogged = false;
  private readonly counted;

  constructor(private readonly opts: DerivativeStoreOptions) {
    this.outage = new OutageLog(opts.logger, 'derivative store read');
    const { storeReads } = opts.metrics;
    this.counted = {
      hit: storeReads.labels('hit'),
      miss: storeReads.labels('miss'),
      error: storeReads.labels('error'),
      skipped: storeReads.labels('skipped'),
      denied: storeReads.labels('denied'),
    };
  }

  get bucket(): string {
    return this.opts.bucket;
  }

  /** The stored bytes of `key`, or undefined (not stored, too large, or the store failed or was slow). */
  async read(key: string): Promise<Buffer | undefined> {
    if (Date.now() < this.pausedUntil) {
      this.counted.skipped.inc();
      return undefined;
    }
    const signal = AbortSignal.timeout(this.opts.readTimeoutMs);
    try {
      const out = await this.opts.s3.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }), {
        abortSignal: signal,
      });
      const body = out.Body as (AsyncIterable<Buffer> & { destroy?: () => void }) | undefined;
      if (body === undefined || (out.ContentLength ?? 0) > this.opts.maxBytes) {
        body?.destroy?.();
        this.counted.miss.inc();
        return undefined;
      }
      const bytes = await readCapped(body, this.opts.maxBytes, () => body.destroy?.());
      if (bytes === undefined) {
        this.counted.miss.inc();
        return undefined;
      }
      this.outage.succeeded();
      this.counted.hit.inc();
      return bytes;
    } catch (err) {
      if (isNotFound(err)) {
        this.outage.succeeded();
        this.counted.miss.inc();
        return undefined;
      }
      if (status(err) === 403) {
        // S3 answers 403, not 404, for a missing object when the reader may not list the bucket:
        // a miss to fall through at once, not an outage to pause for. Said once per process.
        this.counted.denied.inc();
        if (!this.deniedLogged) {
          this.deniedLogged = true;
          this.opts.logger.warn(
            { err, bucket: this.opts.bucket },
            'derivative store read denied (403): objects that exist are read, missing ones cannot be told from forbidden ones; grant s3:ListBucket on the derivatives prefix so they answer 404',
          );
        }
        return undefined;
      }
      this.counted.error.inc();
      this.pausedUntil = Date.now() + STORE_PAUSE_MS;
      this.outage.failed(err, { bucket: this.opts.bucket, timedOut: signal.aborted });
      return undefined;
    }
  }

  /** Whether `key` is stored (HeadObject): undefined when the store cannot say. */
  async has(key: string, timeoutMs = 5000): Promise<boolean | undefined> {
    try {
      await this.opts.s3.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      return undefined;
    }
  }
}
