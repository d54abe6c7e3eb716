import { request } from 'undici';

/** One parsed Prometheus sample: `name{labels} value`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text exposition (what prom-client writes); comments and junk lines are skipped. */
export function parsePrometheus(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `match`. */
export function sumMetric(samples: readonly PromSample[], name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** What the runner follows in the Preprocessor's /metrics. */
export interface MetricsPoint {
  t: number;
  generatorInvocations: number;
  cacheHits: number;
  cacheMisses: number;
  cacheCoalesced: number;
  cacheBytes: number;
  generatorInFlight: number;
  shed: number;
  coldStarts: number;
  rssBytes: number;
}

export function pointFrom(samples: readonly PromSample[], t: number): MetricsPoint {
  return {
    t,
    // Throttled attempts never ran the Generator: they are retried and counted again.
    generatorInvocations:
      sumMetric(samples, 'marquee_generator_invocations_total') -
      sumMetric(samples, 'marquee_generator_invocations_total', { outcome: 'throttled' }),
    cacheHits: sumMetric(samples, 'marquee_cache_requests_total', { result: 'hit' }),
    cacheMisses: sumMetric(samples, 'marquee_cache_requests_total', { result: 'miss' }),
    cacheCoalesced: sumMetric(samples, 'marquee_cache_requests_total', { result: 'coalesced' }),
    cacheBytes: sumMetric(samples, 'marquee_cache_bytes'),
    generatorInFlight: sumMetric(samples, 'marquee_generator_in_flight'),
    shed: sumMetric(samples, 'marquee_shed_total'),
    coldStarts: sumMetric(samples, 'marquee_generator_cold_starts_total'),
    rssBytes: sumMetric(samples, 'marquee_process_resident_memory_bytes'),
  };
}

export async function scrape(baseUrl: string, signal?: AbortSignal): Promise<PromSample[]> {
  const res = await request(`${baseUrl}/metrics`, {
    method: 'GET',
    headersTimeout: 5000,
    bodyTimeout: 5000,
    ...(signal ? { signal } : {}),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /metrics: ${res.statusCode}`);
  return parsePrometheus(text);
}

/** Samples /metrics every `intervalMs` until stopped; a failed scrape is counted, not fatal. */
export class MetricsSampler {
  readonly points: MetricsPoint[] = [];
  failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly clock: () => number,
    private readonly intervalMs = 1000,
  ) {}

  async sampleOnce(): Promise<MetricsPoint | undefined> {
    try {
      const point = pointFrom(await scrape(this.baseUrl), Math.round(this.clock() * 100) / 100);
      this.points.push(point);
      return point;
    } catch {
      this.failures++;
      return undefined;
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.pending) return;
      this.pending = this.sampleOnce().then(() => {
        this.pending = undefined;
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pending;
    await this.sampleOnce();
  }

  latest(): MetricsPoint | undefined {
    return this.points[this.points.length - 1];
  }
}
