import { contentTypeOf, derivativeKey, type Format, type ImageSpec, type Source } from '@marquee/shared';
import type { OutputCache, CachedImage } from './cache/output-cache.js';
import type { SingleFlight } from './cache/single-flight.js';
import type { GeneratorClient, RenderTimings } from './lambda/generator-client.js';
import type { Priority } from './lambda/scheduler.js';
import type { Metrics } from './plugins/metrics.js';
import type { StorePolicy } from './store/policy.js';
import type { DerivativeStore } from './store/reader.js';

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
  /** Who waits for it: a CDN miss (`live`, the default) or a studio preview. */
  priority?: Exclude<Priority, 'prewarm'>;
}

/** One generation's image and its `Server-Timing` value, shared by the callers it was coalesced for. */
export interface Generation {
  image: CachedImage;
  serverTiming: string;
  /** Where the image came from: the derivative store, or a Generator render. */
  from: 'store' | 'render';
}

/** The derivative store: read before rendering, written by the Generator after it has streamed a render back. */
export interface ImageStore {
  reader: DerivativeStore;
  /** Whether renders are kept (`MARQUEE_STORE_WRITES`): off, the store is only read. */
  writes: boolean;
  policy: StorePolicy;
}

export interface ImageServiceDeps {
  cache: OutputCache;
  flights: SingleFlight<Generation>;
  generator: GeneratorClient;
  metrics: Metrics;
  /** Absent without a derivatives bucket. */
  store?: ImageStore | undefined;
}

/**
 * Output cache, then one generation per key in flight: the derivative store, then the Generator.
 * A render of a stored type names its object (`output`): the Generator PUTs it after it has
 * streamed the bytes back, so the store never stands in the client's latency.
 */
export class ImageService {
  /** Counters bound to their label once: a hit is counted without hashing labels. */
  private readonly counted: Record<CacheResult, { inc: () => void }>;

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
    return this.render(job, store?.writes === true ? store.reader.bucket : undefined);
  }

  /** A Generator render; with `keepIn`, the Generator also keeps it there. */
  private async render(job: ImageJob, keepIn: string | undefined): Promise<Generation> {
    const { timings, ...rendered } = await this.deps.generator.render(
      {
        v: 1,
        id: job.requestId,
        source: job.source,
        spec: job.spec,
        ...(job.version !== undefined ? { version: job.version } : {}),
        ...(keepIn !== undefined
          ? { output: { s3: { bucket: keepIn, key: derivativeKey(job.key, job.format) } } }
          : {}),
      },
      job.priority ?? 'live',
    );
    if (keepIn !== undefined) this.deps.metrics.storeWrites.inc();
    const image: CachedImage = { ...rendered, etag: `"${job.key}"`, contentLength: String(rendered.body.length) };
    this.deps.cache.set(job.key, image);
    this.countCached();
    return { image, serverTiming: serverTiming(timings), from: 'render' };
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
