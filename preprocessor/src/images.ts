import { derivativeKey, type Format, type ImageSpec, type Source } from '@marquee/shared';
import type { OutputCache, CachedImage } from './cache/output-cache.js';
import type { SingleFlight } from './cache/single-flight.js';
import type { GeneratorClient, RenderTimings } from './generator/client.js';
import type { Metrics } from './plugins/metrics.js';

export type CacheResult = 'hit' | 'miss' | 'coalesced';

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
}

export interface ImageServiceDeps {
  cache: OutputCache;
  flights: SingleFlight<Generation>;
  generator: GeneratorClient;
  metrics: Metrics;
  derivativesBucket: string | undefined;
}

/** Output cache, then one generation per key in flight, then the Generator. */
export class ImageService {
  /** Counters bound to their label once: a hit is counted without hashing labels. */
  private readonly counted: Record<CacheResult, { inc: () => void }>;

  constructor(private readonly deps: ImageServiceDeps) {
    const { cache } = deps.metrics;
    this.counted = { hit: cache.labels('hit'), miss: cache.labels('miss'), coalesced: cache.labels('coalesced') };
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
    this.counted[shared ? 'coalesced' : 'miss'].inc();
    const { image, serverTiming } = await promise;
    return { image, cache: shared ? 'coalesced' : 'miss', serverTiming };
  }

  private async generate(job: ImageJob): Promise<Generation> {
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
    return { image, serverTiming: serverTiming(timings) };
  }

  /** Forgets every cached output, the gauges with it (clearing the cache itself would leave them stale). */
  clear(): void {
    this.deps.cache.clear();
    this.countCached();
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
