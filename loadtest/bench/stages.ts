// Where an uncached Marquee image spends its wall time, from what the stack already exposes
// (wrk's latency, the Preprocessor's /metrics, the Generator's log lines with `timings`) and,
// when the Preprocessor sends one, a `Server-Timing` header sampled on every measured reply.
import { parseGeneratedLine } from '../runner/puts.js';

/**
 * The `Server-Timing` metric names the bench reads (mean `dur`, milliseconds, per reply).
 * `render` is read when decode+resize and encode are not timed apart.
 */
export const SERVER_TIMING_NAMES = [
  'queue',
  'invoke',
  'fetch',
  'decode',
  'encode',
  'render',
  'reply',
  'total',
] as const;
export type ServerTimingName = (typeof SERVER_TIMING_NAMES)[number];

/** What each name must cover, for the Preprocessor's side of the contract (and the report). */
export const SERVER_TIMING_MEANING: Record<ServerTimingName, string> = {
  queue: 'waiting for a Generator slot in the Preprocessor (Scheduler.acquire), 0 when there was no wait',
  invoke:
    'the InvokeWithResponseStream call as the Preprocessor sees it: request sent → the last byte the prelude announced (transport + everything the Generator does before it)',
  fetch: "the Generator's source fetch (its timings.fetchMs)",
  decode: 'the Generator decoding + resizing (sharp pipeline up to the encoder)',
  encode: 'the Generator encoding the output (WebP/AVIF/JPEG)',
  render: "decode + resize + encode when not split (the Generator's timings.renderMs)",
  reply: 'from the rendered Buffer to the reply handed to the socket (headers, cache, send)',
  total: "the Preprocessor's whole handling of the request",
};

/** Parses a Server-Timing header value into name → dur (ms); entries without `dur` are skipped. */
export function parseServerTiming(value: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of value.split(',')) {
    const [rawName, ...params] = entry.split(';');
    const name = rawName?.trim().toLowerCase();
    if (!name) continue;
    for (const p of params) {
      const m = /^\s*dur\s*=\s*"?([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)"?\s*$/i.exec(p);
      if (m) out.set(name, (out.get(name) ?? 0) + Number(m[1]));
    }
  }
  return out;
}

/** Per-name sums of Server-Timing durations over the replies that carried the name. */
export interface TimingSums {
  [name: string]: { sumMs: number; count: number };
}

// ---------------------------------------------------------------------------------------------
// The Preprocessor's /metrics (Prometheus text): histogram _sum/_count, deltas over the window.

/** Sums `<metric>_sum` and `<metric>_count` over all label sets but those `exclude` matches. */
export function histogramTotals(
  text: string,
  metric: string,
  exclude?: (labels: string) => boolean,
): { sum: number; count: number } {
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || (m[1] !== `${metric}_sum` && m[1] !== `${metric}_count`)) continue;
    if (exclude?.(m[2] ?? '')) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    if (m[1].endsWith('_sum')) sum += v;
    else count += v;
  }
  return { sum, count };
}

export interface MetricsSnapshot {
  httpSumS: number;
  httpCount: number;
  generatorSumS: number;
  generatorCount: number;
}

export function metricsSnapshot(text: string): MetricsSnapshot {
  const http = histogramTotals(text, 'marquee_http_request_duration_seconds', (l) => l.includes('/metrics'));
  const gen = histogramTotals(text, 'marquee_generator_duration_seconds');
  return { httpSumS: http.sum, httpCount: http.count, generatorSumS: gen.sum, generatorCount: gen.count };
}

// ---------------------------------------------------------------------------------------------
// The Generator's log lines (`generated`, with ms and timings), passed through by the stack.

export interface GeneratorLogSums {
  count: number;
  handlerMs: number;
  fetchMs: number;
  renderMs: number;
  /** Renders kept by the Generator after it ended the reply stream, and the ms their PUTs took. */
  puts: number;
  putMs: number;
}

export function emptyGeneratorSums(): GeneratorLogSums {
  return { count: 0, handlerMs: 0, fetchMs: 0, renderMs: 0, puts: 0, putMs: 0 };
}

/** Adds one stdout line of the stack if it is a Generator `generated` line. */
export function addGeneratorLine(sums: GeneratorLogSums, line: string): void {
  const j = parseGeneratedLine(line);
  if (j === undefined) return;
  sums.count++;
  if (typeof j.putMs === 'number') {
    sums.puts++;
    sums.putMs += j.putMs;
  }
  sums.handlerMs += j.ms;
  sums.fetchMs += j.timings?.fetchMs ?? 0;
  sums.renderMs += j.timings?.renderMs ?? 0;
}

// ---------------------------------------------------------------------------------------------
// The breakdown.

export interface StageInputs {
  /** Replies measured by wrk in the window and their mean latency. */
  requests: number;
  clientMeanMs: number;
  /** /metrics deltas over the window (undefined: could not be scraped). */
  metrics?: MetricsSnapshot;
  generator: GeneratorLogSums;
  serverTiming: TimingSums;
}

export interface StageRow {
  stage: string;
  /** Mean milliseconds per image; undefined: not measured. */
  ms: number | undefined;
  /** Where the figure comes from, or why it is missing. */
  source: string;
}

export interface StageBreakdown {
  rows: StageRow[];
  /** Stages asked for that nothing measures yet. */
  missing: string[];
  samples: { wrk: number; metrics: number; generatorLog: number; serverTiming: number };
}

const mean = (s: { sumMs: number; count: number } | undefined): number | undefined =>
  s && s.count > 0 ? s.sumMs / s.count : undefined;

/**
 * The stages (queue wait, invoke transport, source fetch, decode+resize, encode, reply) plus the
 * totals they sit in. Nothing is base64 on the streamed boundary, so there is no such stage. A Server-Timing
 * figure wins over a derived one; a stage neither measures is listed in `missing`.
 */
export function stageBreakdown(i: StageInputs): StageBreakdown {
  const st = (n: ServerTimingName) => mean(i.serverTiming[n]);
  const g = i.generator;
  const gMean = (v: number) => (g.count > 0 ? v / g.count : undefined);
  const m = i.metrics;
  const httpMs = m && m.httpCount > 0 ? (m.httpSumS * 1000) / m.httpCount : undefined;
  const genCallMs = m && m.generatorCount > 0 ? (m.generatorSumS * 1000) / m.generatorCount : undefined;
  const handlerMs = gMean(g.handlerMs);
  const sub = (a: number | undefined, ...b: Array<number | undefined>) =>
    a === undefined || b.some((x) => x === undefined) ? undefined : a - b.reduce<number>((s, x) => s + (x ?? 0), 0);

  const rows: StageRow[] = [];
  const missing: string[] = [];
  const row = (stage: string, ms: number | undefined, source: string, required = true) => {
    rows.push({ stage, ms, source });
    if (ms === undefined && required) missing.push(stage);
  };

  row('end to end (client)', i.requests > 0 ? i.clientMeanMs : undefined, 'wrk mean latency', false);
  const total = st('total');
  row(
    'Preprocessor total',
    total ?? httpMs,
    total !== undefined ? 'Server-Timing total' : 'metrics: marquee_http_request_duration_seconds (onResponse)',
    false,
  );
  const queue = st('queue');
  row(
    'queue wait',
    queue,
    queue !== undefined
      ? 'Server-Timing queue'
      : 'not measured (no Server-Timing queue); it sits in "Preprocessor outside the Generator call"',
  );
  const invokeSt = st('invoke');
  const invoke = invokeSt ?? genCallMs;
  row(
    'Generator call (to the last announced byte)',
    invoke,
    invokeSt !== undefined ? 'Server-Timing invoke' : 'metrics: marquee_generator_duration_seconds',
    false,
  );
  const fetch = st('fetch') ?? gMean(g.fetchMs);
  const decode = st('decode');
  const encode = st('encode');
  const render = st('render') ?? gMean(g.renderMs);
  const renderAll = decode !== undefined && encode !== undefined ? decode + encode : render;
  // Transport: the call less what the Generator reports of its own work.
  const transport = invokeSt !== undefined ? sub(invokeSt, fetch, renderAll) : sub(invoke, handlerMs);
  row(
    'invoke transport',
    transport,
    invokeSt !== undefined
      ? 'Server-Timing invoke − fetch − render'
      : 'derived: Generator call − Generator handler ms (HTTP, event-stream framing, IPC)',
  );
  row('source fetch', fetch, st('fetch') !== undefined ? 'Server-Timing fetch' : 'Generator log timings.fetchMs');
  row(
    'decode+resize',
    decode,
    decode !== undefined ? 'Server-Timing decode' : 'not measured apart (in timings.renderMs, one sharp pipeline)',
  );
  row('encode', encode, encode !== undefined ? 'Server-Timing encode' : 'not measured apart (in timings.renderMs)');
  row(
    'decode+resize+encode',
    renderAll,
    decode !== undefined && encode !== undefined
      ? 'Server-Timing decode + encode'
      : st('render') !== undefined
        ? 'Server-Timing render'
        : 'Generator log timings.renderMs',
    false,
  );
  row(
    'Generator other (parse, probe, result)',
    sub(handlerMs, gMean(g.fetchMs), gMean(g.renderMs)),
    'Generator log ms − fetchMs − renderMs',
    false,
  );
  // The line's ms ends when the reply stream ends; the PUT follows it in the same invocation.
  row(
    'store PUT, after the reply (billed, not in latency)',
    g.puts > 0 ? g.putMs / g.puts : undefined,
    g.puts > 0 ? `Generator log putMs (${g.puts} kept renders)` : 'no render kept in the window',
    false,
  );
  const reply = st('reply');
  row('reply', reply, reply !== undefined ? 'Server-Timing reply' : 'not measured apart (no Server-Timing reply)');
  row(
    'Preprocessor outside the Generator call',
    sub(total ?? httpMs, invoke),
    'Preprocessor total − Generator call (queue wait, rules, reply)',
    false,
  );
  row(
    'outside the Preprocessor',
    sub(i.requests > 0 ? i.clientMeanMs : undefined, total ?? httpMs),
    'wrk mean − Preprocessor total (sockets, parsing, wrk)',
    false,
  );
  const stCount = Math.max(0, ...Object.values(i.serverTiming).map((s) => s.count));
  return {
    rows,
    missing,
    samples: { wrk: i.requests, metrics: m?.generatorCount ?? 0, generatorLog: g.count, serverTiming: stCount },
  };
}
