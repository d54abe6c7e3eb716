import {
  OUTPUT_CONTENT_TYPES,
  contentTypeOf,
  derivativeKey,
  type Format,
  type ImageSpec,
  type Source,
  type StoreRequest,
} from '@marquee/shared';
import type { OutputCache, CachedImage } from './cache/output-cache.js';
import type { SingleFlight } from './cache/single-flight.js';
import type { GeneratorClient, RenderTimings } from './generator/client.js';
import type { Metrics } from './plugins/metrics.js';
import type { StorePolicy } from './store/policy.js';
import type { DerivativeStore } from './store/reader.js';
import type { StoreWrite, StoreWriter } from './store/writer.js';

/** `store`: an output-cache miss the derivative store answered (no Generator invocation). */
export type CacheResult = 'hit' | 'miss' | 'coalesced' | 'store';

export interface ImageJob {
  /** Canonical spec key: names the output in the cache, in flight, in the derivatives bucket. */
  key: string;
  source: Source;
  spec: ImageSpec;
  format: Format;
  requestId: string;
  /**
   * The catalog's artwork version of `source` (in `key` already). The Generator may then reuse
   * the bytes it holds for that version without asking S3: a new master is a new version.
   */
  version?: string;
}

/** One generation's image and its `Server-Timing` value, shared by the callers it was coalesced for. */
export interface Generation {
  image: CachedImage;
  serverTiming: string;
  /** Where the image came from: the derivative store, or a Generator render. */
  from: 'store' | 'render';
}

/** The derivative store: read before rendering, written (through the Generator) after the reply. */
export interface ImageStore {
  reader: DerivativeStore;
  /** Undefined when writes are off (`MARQUEE_STORE_QUEUE_BYTES=0`): the store is then only read. */
  writer: StoreWriter | undefined;
  policy: StorePolicy;
}

export interface ImageServiceDeps {
  cache: OutputCache;
  flights: SingleFlight<Generation>;
  generator: GeneratorClient;
  metrics: Metrics;
  derivativesBucket: string | undefined;
  /** Absent without a derivatives bucket. */
  store?: ImageStore | undefined;
}

/** Renders awaiting their reply before they are handed over to be stored; past it the oldest go at once. */
const MAX_HELD_WRITES = 1024;

/**
 * Output cache, then one generation per key in flight: the derivative store, then the Generator.
 * A render of a stored type is handed back to the Generator to store once its reply is sent
 * (`replied`, from an `onResponse` hook): never in the client's latency.
 */
export class ImageService {
  /** Counters bound to their label once: a hit is counted without hashing labels. */
  private readonly counted: Record<CacheResult, { inc: () => void }>;
  /** Store writes by the id of the request whose reply they wait for. */
  private readonly held = new Map<string, StoreWrite[]>();

  constructor(private readonly deps: ImageServiceDeps) {
    const { cache } = deps.metrics;
    this.counted = {
      hit: cache.labels('hit'),
      miss: cache.labels('miss'),
      coalesced: cache.labels('coalesced'),
      store: cache.labels('store'),
    };
  }

  /** A cached output, counted as a hit; nothing is allocated for it. */
  hit(key: string): CachedImage | undefined {
    const hit = this.deps.cache.get(key);
    if (hit) this.counted.hit.inc();
    return hit;
  }

  /**
   * `serverTiming` comes with a generation (miss or coalesced), never with a hit.
   */
  async get(job: ImageJob): Promise<{ image: CachedImage; cache: CacheResult; serverTiming?: string }> {
    const hit = this.hit(job.key);
    if (hit) return { image: hit, cache: 'hit' };
    const { promise, shared } = this.deps.flights.run(job.key, () => this.generate(job));
    if (shared) {
      this.counted.coalesced.inc();
      const { image, serverTiming } = await promise;
      return { image, cache: 'coalesced', serverTiming };
    }
    let generation: Generation;
    try {
      generation = await promise;
    } catch (err) {
      this.counted.miss.inc();
      throw err;
    }
    const cache = generation.from === 'store' ? 'store' : 'miss';
    this.counted[cache].inc();
    return { image: generation.image, cache, serverTiming: generation.serverTiming };
  }

  /** The store first (for stored types), then the Generator; one of these per key in flight. */
  private async generate(job: ImageJob): Promise<Generation> {
    const store = this.deps.store?.policy.stores(job) === true ? this.deps.store : undefined;
    if (store !== undefined) {
      const started = performance.now();
      const body = await store.reader.read(derivativeKey(job.key, job.format));
      if (body !== undefined) {
        const image: CachedImage = {
          body,
          contentType: contentTypeOf(job.format),
          // The spec's size: the object carries only bytes (an `enlarge: false` output may be smaller).
          width: job.spec.width,
          height: job.spec.height,
          etag: `"${job.key}"`,
          contentLength: String(body.length),
        };
        this.deps.cache.set(job.key, image);
        this.countCached();
        return { image, serverTiming: `store;dur=${dur(performance.now() - started)}`, from: 'store' };
      }
    }
    const generation = await this.render(job);
    if (store?.writer !== undefined) this.hold(job, generation.image);
    return generation;
  }

  private async render(job: ImageJob): Promise<Generation> {
    const { derivativesBucket } = this.deps;
    const { timings, ...rendered } = await this.deps.generator.render({
      v: 1,
      id: job.requestId,
      source: job.source,
      spec: job.spec,
      ...(job.version !== undefined ? { version: job.version } : {}),
      ...(derivativesBucket
        ? { output: { s3: { bucket: derivativesBucket, key: derivativeKey(job.key, job.format) } } }
        : {}),
    });
    const image: CachedImage = { ...rendered, etag: `"${job.key}"`, contentLength: String(rendered.body.length) };
    this.deps.cache.set(job.key, image);
    this.countCached();
    return { image, serverTiming: serverTiming(timings), from: 'render' };
  }

  /** Keeps a render's store write until its request's reply has been sent. */
  private hold(job: ImageJob, image: CachedImage): void {
    const bucket = this.deps.store?.reader.bucket;
    const contentType = image.contentType as StoreRequest['contentType'];
    if (bucket === undefined || !OUTPUT_CONTENT_TYPES.includes(contentType)) return;
    const write: StoreWrite = {
      id: job.requestId,
      target: { bucket, key: derivativeKey(job.key, job.format) },
      contentType,
      width: image.width,
      height: image.height,
      body: image.body,
    };
    const writes = this.held.get(job.requestId);
    if (writes) writes.push(write);
    else this.held.set(job.requestId, [write]);
    if (this.held.size > MAX_HELD_WRITES) {
      const [oldest] = this.held.keys();
      if (oldest !== undefined) this.replied(oldest);
    }
  }

  /** The reply to request `id` has been sent: its renders are handed over to be stored. */
  replied(id: string): void {
    if (this.held.size === 0) return;
    const writes = this.held.get(id);
    if (writes === undefined) return;
    this.held.delete(id);
    for (const write of writes) this.deps.store?.writer?.enqueue(write);
  }

  /** Forgets every cached output, the gauges with it (clearing the cache itself would leave them stale). */
  clear(): void {
    this.deps.cache.clear();
    this.countCached();
  }

  /**
   * Drops these outputs (by spec key) from the output cache, as a CDN invalidation drops their
   * URLs; the derivative store keeps them (a key names one look, which never goes stale). Returns
   * how many were cached.
   */
  forget(keys: Iterable<string>): number {
    let dropped = 0;
    for (const key of keys) if (this.deps.cache.delete(key)) dropped++;
    if (dropped > 0) this.countCached();
    return dropped;
  }

  private countCached(): void {
    this.deps.metrics.cacheBytes.set(this.deps.cache.bytes);
    this.deps.metrics.cacheEntries.set(this.deps.cache.entries);
  }
}

/**
 * RFC 9110 If-None-Match, weak comparison, lists. `*` is not honoured: it means "any current
 * representation", which only rendering would prove, so it gets the full answer (200 or an error).
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
}

const dur = (ms: number) => Math.round(ms * 10) / 10;

/** `Server-Timing` of a MISS reply: exactly these four names (the bench reads them), in ms. */
export function serverTiming(t: RenderTimings): string {
  return `queue;dur=${dur(t.queueMs)}, invoke;dur=${dur(t.invokeMs)}, fetch;dur=${dur(t.fetchMs)}, render;dur=${dur(t.renderMs)}`;
}
