import http from 'node:http';
import type { InvalidationResult, Invalidator } from './invalidator.js';
import { isWildcard, normalisePaths, wildcardRegex } from './paths.js';

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
 * Invalidation for the embedded stack's Varnish (`infra/local/cdn/marquee.vcl`): a wildcard path
 * (`/v1/artwork/boxshot/*`) is one `BAN` whose `X-Ban-Url` is the path as a regex on the URL, every
 * cached query and Accept variant under it included; an exact path is one `PURGE` of that URL, all of
 * its Accept variants. Varnish answers at once: the objects are gone (a ban is tested before any
 * further hit), so there is nothing to wait for.
 */
export class VarnishInvalidator implements Invalidator {
  readonly name = 'varnish';
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
    const ids: string[] = new Array<string>(unique.length);
    let next = 0;
    const worker = async () => {
      while (next < unique.length) {
        const i = next++;
        ids[i] = await this.#send(unique[i]!, reason);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, unique.length) }, worker));
    return { backend: this.name, paths: unique.length, requests: unique.length, ids };
  }

  /** One BAN or PURGE; answers Varnish's transaction id (X-Varnish), what varnishlog shows it under. */
  #send(p: string, reason: string): Promise<string> {
    const wildcard = isWildcard(p);
    const headers: Record<string, string> = { 'x-invalidation-reason': reason.replace(/[^\x20-\x7e]/g, '?') };
    if (wildcard) headers['x-ban-url'] = wildcardRegex(p);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#base.hostname,
          port: this.#base.port || 80,
          method: wildcard ? 'BAN' : 'PURGE',
          // A BAN is addressed by its header; its request line names the pattern, for the logs.
          path: wildcard ? p.slice(0, -1) || '/' : p,
          headers,
          agent: false,
          timeout: this.#timeoutMs,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            if (res.statusCode === 200) resolve(String(res.headers['x-varnish'] ?? ''));
            else
              reject(
                new Error(
                  `Varnish refused ${wildcard ? 'BAN' : 'PURGE'} ${p}: ${res.statusCode} ${body.trim().slice(0, 200)}`,
                ),
              );
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Varnish did not answer ${p} within ${this.#timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}
