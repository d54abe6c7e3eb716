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

/** Sum of a metric's samples whose labels pass `keep`. */
export function sumWhere(
  samples: readonly PromSample[],
  name: string,
  keep: (labels: Record<string, string>) => boolean,
): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && keep(s.labels)) sum += s.value;
  return sum;
}

/** Sum and count of a histogram, per value of one label (e.g. `stage`). */
export function histogramByLabel(
  samples: readonly PromSample[],
  name: string,
  label: string,
): Record<string, { sum: number; count: number }> {
  const out: Record<string, { sum: number; count: number }> = {};
  for (const s of samples) {
    const part = s.name === `${name}_sum` ? 'sum' : s.name === `${name}_count` ? 'count' : undefined;
    const key = s.labels[label];
    if (!part || key === undefined) continue;
    const slot = (out[key] ??= { sum: 0, count: 0 });
    slot[part] += s.value;
  }
  return out;
}

/** What the runner follows in the Preprocessor's /metrics. Counters are cumulative; deltas are taken later. */
export interface MetricsPoint {
  t: number;
  /** Requests the artwork route answered (hot path included): what reached the origin. */
  originRequests: number;
  generatorInvocations: number;
  throttled: number;
  cacheHits: number;
  cacheMisses: number;
  cacheCoalesced: number;
  cacheBytes: number;
  generatorInFlight: number;
  generatorQueued: number;
  /** marquee_generator_duration_seconds: Generator calls as the Preprocessor timed them. */
  generatorSeconds: number;
  generatorCalls: number;
  /** Per-stage histogram sums (seconds) and counts, when the Preprocessor exports `marquee_generator_stage_seconds{stage}`. */
  stageSeconds: Record<string, { sum: number; count: number }>;
  shed: number;
  /** Renders the Generator was asked to keep (`marquee_store_writes_total`: it PUTs each after its reply). */
  storeWrites: number;
  coldStarts: number;
  rssBytes: number;
}

/** The metric a Preprocessor would export per Generator stage (queue, fetch, render); read when present. */
export const STAGE_HISTOGRAM = 'marquee_generator_stage_seconds';

export function pointFrom(samples: readonly PromSample[], t: number): MetricsPoint {
  const throttled = sumMetric(samples, 'marquee_generator_invocations_total', { outcome: 'throttled' });
  return {
    t,
    originRequests: sumWhere(samples, 'marquee_http_requests_total', (l) => (l.route ?? '').startsWith('/v1/artwork')),
    // Throttled attempts never ran the Generator: they are retried and counted again.
    generatorInvocations: sumMetric(samples, 'marquee_generator_invocations_total') - throttled,
    throttled,
    cacheHits: sumMetric(samples, 'marquee_cache_requests_total', { result: 'hit' }),
    cacheMisses: sumMetric(samples, 'marquee_cache_requests_total', { result: 'miss' }),
    cacheCoalesced: sumMetric(samples, 'marquee_cache_requests_total', { result: 'coalesced' }),
    cacheBytes: sumMetric(samples, 'marquee_cache_bytes'),
    generatorInFlight: sumMetric(samples, 'marquee_generator_in_flight'),
    generatorQueued: sumMetric(samples, 'marquee_generator_queued'),
    generatorSeconds: sumMetric(samples, 'marquee_generator_duration_seconds_sum'),
    generatorCalls: sumMetric(samples, 'marquee_generator_duration_seconds_count'),
    stageSeconds: histogramByLabel(samples, STAGE_HISTOGRAM, 'stage'),
    shed: sumMetric(samples, 'marquee_shed_total'),
    storeWrites: sumMetric(samples, 'marquee_store_writes_total', {}),
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
