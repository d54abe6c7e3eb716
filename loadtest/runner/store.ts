// The derivative store as the run left it: the objects under `derivatives/` in the embedded stack's
// derivatives bucket, listed before and after the run through the S3 API. The Generator PUTs each
// render of a stored type itself, after it has streamed the reply, so the last objects land after
// the last replies: the count after the run waits (bounded) for them.
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { quietSdkNodeNotice } from '@marquee/shared';

/** Where a stack keeps its rendered outputs. */
export interface StoreTarget {
  /** The S3 endpoint (the embedded stack's s3rver). */
  endpoint: string;
  bucket: string;
  /** `DERIVATIVES_PREFIX` of `@marquee/shared` (layout.ts). */
  prefix: string;
}

/** Objects by key, each with what changes when it is written again (ETag and LastModified). */
export type StoreListing = ReadonlyMap<string, string>;

/** How long the count after the run waits for the Generator's last PUTs, by default. */
export const STORE_SETTLE_MS = 10_000;

/** An S3 client for the local S3 (s3rver takes any credentials; the SDK signs with some). */
export function storeClient(endpoint: string): S3Client {
  quietSdkNodeNotice();
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}

/** Every object under the target's prefix, every page of the listing. */
export async function listStore(client: S3Client, target: StoreTarget): Promise<StoreListing> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: target.bucket,
        Prefix: target.prefix,
        ...(token !== undefined ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of page.Contents ?? [])
      if (o.Key !== undefined) out.set(o.Key, `${o.ETag ?? ''} ${o.LastModified?.toISOString() ?? ''} ${o.Size ?? ''}`);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/** Objects written between two listings: keys new in `after`, or written again (a changed ETag or time). */
export function writtenBetween(before: StoreListing, after: StoreListing): number {
  let n = 0;
  for (const [key, version] of after) if (before.get(key) !== version) n++;
  return n;
}

export interface SettledCount {
  written: number;
  /** How long the count waited after the run for the last PUTs (ms). */
  waitedMs: number;
  /** Whether it reached `expected` (false: it gave up after `timeoutMs`, or had nothing to expect). */
  settled: boolean;
}

/**
 * Counts until the count reaches `expected`, or `timeoutMs` has passed (then one last count).
 * Without an expectation it counts once: there is nothing to wait for.
 */
export async function settledCount(o: {
  count: () => Promise<number>;
  expected: number | undefined;
  timeoutMs?: number;
  intervalMs?: number;
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}): Promise<SettledCount> {
  const now = o.now ?? Date.now;
  const wait = o.wait ?? sleep;
  const timeoutMs = o.timeoutMs ?? STORE_SETTLE_MS;
  const intervalMs = o.intervalMs ?? 500;
  const started = now();
  for (;;) {
    const written = await o.count();
    const waitedMs = now() - started;
    if (o.expected === undefined) return { written, waitedMs, settled: false };
    if (written >= o.expected) return { written, waitedMs, settled: true };
    if (waitedMs >= timeoutMs) return { written, waitedMs, settled: false };
    await wait(Math.min(intervalMs, timeoutMs - waitedMs));
  }
}

/** What the run's report keeps of the store: the listings' sizes and the objects written during the run. */
export interface StoreReport {
  bucket: string;
  prefix: string;
  objectsBefore: number;
  objectsAfter: number;
  /** Objects new or written again during the run (and the wait after it). */
  written: number;
  waitedMs: number;
  /** How long the count could wait for the last PUTs. */
  settleMs: number;
}

/**
 * Lists the store before the run; `after(expected)` lists it again, waiting up to `settleMs` until
 * `expected` objects were written. A listing that fails is the error's message (the figure is
 * missing, not zero).
 */
export async function watchStore(
  target: StoreTarget,
  settleMs = STORE_SETTLE_MS,
): Promise<{ after: (expected: number | undefined) => Promise<StoreReport | string> }> {
  const client = storeClient(target.endpoint);
  const failed = (err: unknown) =>
    `could not list s3://${target.bucket}/${target.prefix} at ${target.endpoint}: ${(err as Error).message}`;
  let before: StoreListing;
  try {
    before = await listStore(client, target);
  } catch (err) {
    client.destroy();
    const message = failed(err);
    return { after: async () => message };
  }
  return {
    after: async (expected) => {
      let last: StoreListing = before;
      try {
        const { written, waitedMs } = await settledCount({
          expected,
          timeoutMs: settleMs,
          count: async () => {
            last = await listStore(client, target);
            return writtenBetween(before, last);
          },
        });
        return {
          bucket: target.bucket,
          prefix: target.prefix,
          objectsBefore: before.size,
          objectsAfter: last.size,
          written,
          waitedMs: Math.round(waitedMs),
          settleMs,
        };
      } catch (err) {
        return failed(err);
      } finally {
        client.destroy();
      }
    },
  };
}
