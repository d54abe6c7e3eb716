import http from 'node:http';
import type { InvalidationResult, TagInvalidator, TaggedInvalidation } from './invalidator.js';
import { isWildcard, normalisePaths, wildcardRegex } from './paths.js';
import { normaliseTags } from './tags.js';

export interface VarnishInvalidatorOptions {
  /** Varnish's address (`http://127.0.0.1:8081` under `npm start -- --cdn`); its VCL accepts BAN and PURGE from localhost only. */
  url: string;
  /** Requests in flight at once: a catalog's worth of PURGEs must not queue thousands of sockets. */
  concurrency?: number;
  /** Per request. */
  timeoutMs?: number;
}

const DEFAULT_CONCURRENCY = 8;
const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Characters of tags in one purge's `xkey-purge` header: Varnish refuses a request header past
 * `http_req_hdr_len` (8 KiB by default) with a 400, so a long tag list goes in several purges.
 */
const MAX_TAG_HEADER = 4000;

/** What Varnish said to one request: its transaction id, and for a tag purge the objects purged. */
interface Answer {
  id: string;
  purged: number;
}

/**
 * Invalidation for the embedded stack's Varnish (`infra/local/cdn/marquee.vcl`): a wildcard path
 * (`/v1/artwork/boxshot/*`) is one `BAN` whose `X-Ban-Url` is the path as a regex on the URL, every
 * cached query and Accept variant under it included; an exact path is one `PURGE` of that URL, all of
 * its Accept variants. Varnish answers at once: the objects are gone (a ban is tested before any
 * further hit), so there is nothing to wait for.
 *
 * Tags: one `PURGE` carrying them in `xkey-purge` (space-separated, as xkey's `purge()` reads them)
 * purges every object whose origin reply named one of them in its cache-tag header (the VCL copies
 * it into xkey's `xkey`); Varnish answers how many objects went in `X-Purged`.
 */
export class VarnishInvalidator implements TagInvalidator {
  readonly name = 'varnish';
  readonly supportsTags = true;
  readonly #base: URL;
  readonly #concurrency: number;
  readonly #timeoutMs: number;

  constructor(options: VarnishInvalidatorOptions) {
    this.#base = new URL(options.url);
    if (this.#base.protocol !== 'http:') throw new RangeError(`Varnish URL must be http://, got ${options.url}`);
    this.#concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async invalidate(paths: readonly string[], reason: string): Promise<InvalidationResult> {
    const unique = normalisePaths(paths);
    const answers = await this.#all(unique, (p) => this.#send(p, reason));
    return { backend: this.name, paths: unique.length, requests: unique.length, ids: answers.map((a) => a.id) };
  }

  /** The tags first (a few purges), then the paths as `invalidate` sends them. */
  async invalidateTagged(plan: TaggedInvalidation, reason: string): Promise<InvalidationResult> {
    const tags = normaliseTags(plan.tags);
    const paths = normalisePaths(plan.paths);
    const tagAnswers = await this.#all(tagBatches(tags), (batch) => this.#send(undefined, reason, batch));
    const pathAnswers = await this.#all(paths, (p) => this.#send(p, reason));
    return {
      backend: this.name,
      paths: paths.length,
      tags: tags.length,
      requests: tagAnswers.length + pathAnswers.length,
      ids: [...tagAnswers, ...pathAnswers].map((a) => a.id),
      purged: tagAnswers.reduce((n, a) => n + a.purged, 0),
    };
  }

  /** `send` over `items`, at most `concurrency` at once, answers in order. */
  async #all<T>(items: readonly T[], send: (item: T) => Promise<Answer>): Promise<Answer[]> {
    const answers = new Array<Answer>(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        answers[i] = await send(items[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, items.length) }, worker));
    return answers;
  }

  /**
   * One BAN, PURGE or tag PURGE (`p` undefined, `tags` given); answers Varnish's transaction id
   * (X-Varnish, what varnishlog shows it under) and the objects a tag purge purged.
   */
  #send(p: string | undefined, reason: string, tags?: readonly string[]): Promise<Answer> {
    const wildcard = p !== undefined && isWildcard(p);
    const headers: Record<string, string> = { 'x-invalidation-reason': reason.replace(/[^\x20-\x7e]/g, '?') };
    if (wildcard) headers['x-ban-url'] = wildcardRegex(p);
    if (tags) headers['xkey-purge'] = tags.join(' ');
    const what = p === undefined ? `tags ${tags?.join(' ').slice(0, 100)}` : p;
    const method = wildcard ? 'BAN' : 'PURGE';
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#base.hostname,
          port: this.#base.port || 80,
          method,
          // A BAN and a tag purge are addressed by their header; the request line is for the logs.
          path: p === undefined ? '/' : wildcard ? p.slice(0, -1) || '/' : p,
          headers,
          agent: false,
          timeout: this.#timeoutMs,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            if (res.statusCode === 200)
              resolve({
                id: String(res.headers['x-varnish'] ?? ''),
                purged: Number(res.headers['x-purged'] ?? 0) || 0,
              });
            else reject(new Error(`Varnish refused ${method} ${what}: ${res.statusCode} ${body.trim().slice(0, 200)}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Varnish did not answer ${what} within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}

/** The tags in runs whose space-joined length stays within `MAX_TAG_HEADER` (a tag is at most 256). */
export function tagBatches(tags: readonly string[], maxChars = MAX_TAG_HEADER): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let length = 0;
  for (const tag of tags) {
    if (batch.length > 0 && length + 1 + tag.length > maxChars) {
      batches.push(batch);
      batch = [];
      length = 0;
    }
    length += (batch.length > 0 ? 1 : 0) + tag.length;
    batch.push(tag);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
