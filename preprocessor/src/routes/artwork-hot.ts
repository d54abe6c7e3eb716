import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import type { ImageService } from '../images.js';
import type { Metrics } from '../plugins/metrics.js';
import { ARTWORK_ROUTE } from './artwork-url.js';
import { requestId } from '../request-id.js';

/** Distinct hot URLs remembered (per Accept for `auto`); an entry is its headers, a few hundred bytes. */
const MAX_ENTRIES = 20_000;
/** A longer URL or Accept header goes through the router every time. */
const MAX_KEY_LENGTH = 512;

interface HotEntry {
  /** The rules and catalog the headers were made for: any new state retires every entry. */
  state: object;
  /** The output's spec key: the bytes are looked up in the output cache on every request. */
  key: string;
  /** Header name/value pairs of a 200, prepared once; the request id and the body's two are added per request. */
  headers: readonly string[];
}

export interface HotPathDeps {
  images: ImageService;
  metrics: Metrics;
  /** The rules and catalog in force (the object changes when either does). */
  state: () => object;
  /** Whether a request must take the full path anyway (shedding, closing, debug logging). */
  bypass: () => boolean;
}

function entryKey(url: string, accept: string | undefined): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  // Only `auto` depends on Accept, as in the route's resolution memo.
  return path.endsWith('.auto') ? `${url}\n${accept ?? ''}` : url;
}

/**
 * Cache hits answered before Fastify routes the request. The artwork route remembers the exact
 * URL (and Accept, for `auto`) of each 200 it served in its canonical spelling, with the reply's
 * headers; a later GET of the same URL is answered here from the output cache with those headers,
 * without routing, schema validation, resolution or hooks. What a client sees is the route's reply
 * byte for byte (a test compares them); the request is counted in the same series.
 *
 * Written by hand because the saving is the point: Fastify's own per-request work (request and
 * reply objects, hooks, validation) is what a hit spends half its time on, and no plugin skips it.
 * Everything unusual (conditional requests, HEAD, a new rules state, an evicted output, shedding,
 * shutdown, debug logging) takes the full path.
 */
export class HotPath {
  private readonly entries = new LRUCache<string, HotEntry>({ max: MAX_ENTRIES });
  private readonly counted: { inc: () => void };
  private readonly latency: { observe: (v: number) => void };
  /** Replies sent here; tests read it to know which path answered. */
  served = 0;

  constructor(private readonly deps: HotPathDeps) {
    this.counted = deps.metrics.requests.labels(ARTWORK_ROUTE, '200');
    this.latency = deps.metrics.latency.labels(ARTWORK_ROUTE);
  }

  /** Called by the route after it sent a 200 for `url`; `headers` excludes the request id and the body's. */
  remember(url: string, accept: string | undefined, state: object, key: string, headers: readonly string[]): void {
    const k = entryKey(url, accept);
    if (k.length <= MAX_KEY_LENGTH) this.entries.set(k, { state, key, headers });
  }

  /** Answers `req` when it is a plain GET of a remembered URL whose output is cached; else returns false. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const { url } = req;
    if (req.method !== 'GET' || url === undefined || url.length > MAX_KEY_LENGTH) return false;
    const { headers } = req;
    if (headers['if-none-match'] !== undefined) return false;
    const k = entryKey(url, headers.accept);
    const entry = this.entries.get(k);
    if (entry === undefined) return false;
    if (entry.state !== this.deps.state()) {
      this.entries.clear();
      return false;
    }
    if (this.deps.bypass()) return false;
    const start = performance.now();
    const image = this.deps.images.hit(entry.key);
    if (image === undefined) {
      this.entries.delete(k);
      return false;
    }
    res.writeHead(200, [
      'x-request-id',
      requestId(headers['x-request-id']),
      ...entry.headers,
      'content-type',
      image.contentType,
      'content-length',
      image.contentLength,
    ]);
    res.end(image.body);
    this.counted.inc();
    this.latency.observe((performance.now() - start) / 1000);
    this.served++;
    return true;
  }

  clear(): void {
    this.entries.clear();
  }
}
