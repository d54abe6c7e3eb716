import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ERROR_CLASSES, STATUS_CLASSES, type StatusClass } from './classify.js';
import type { RunReport } from './run.js';
import { chart, escapeXml, type Band, type Series } from './svg.js';

const CLASS_COLORS: Record<StatusClass, string> = {
  ok: '#2e9e4f',
  notModified: '#7cc48f',
  redirect: '#5b8def',
  shed: '#f0a030',
  clientError: '#b05fd0',
  serverError: '#d33',
  networkError: '#800',
  dropped: '#999',
};

const mb = (b: number | undefined) => (b === undefined ? '-' : `${(b / 1048576).toFixed(0)} MB`);
const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;

/** The run as JSON: everything the HTML shows, for tools and later comparisons. */
export function toJson(r: RunReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

function bands(r: RunReport): Band[] {
  return r.windows.map((w) => ({ name: w.name, from: w.startS, to: w.endS }));
}

/** The charts of a run: throughput, status over time, latency percentiles, Preprocessor metrics. */
export function charts(r: RunReport): string[] {
  const xMax = Math.max(r.windows[r.windows.length - 1]?.endS ?? 0, r.timeline.length);
  const b = bands(r);
  const tl = r.timeline;
  const throughput: Series[] = [
    { name: 'target rate', color: '#333', points: tl.map((p) => [p.t, p.targetRps] as const) },
    { name: 'sent', color: '#5b8def', points: tl.map((p) => [p.t, p.sent] as const) },
    {
      name: '200/304',
      color: CLASS_COLORS.ok,
      points: tl.map((p) => [p.t, p.classes.ok + p.classes.notModified] as const),
    },
  ];
  const status: Series[] = STATUS_CLASSES.filter((c) => tl.some((p) => p.classes[c] > 0)).map((c) => ({
    name: c,
    color: CLASS_COLORS[c],
    points: tl.map((p) => [p.t, p.classes[c]] as const),
  }));
  const latency: Series[] = [
    { name: 'p50', color: '#2e9e4f', points: tl.filter((p) => p.p50 > 0).map((p) => [p.t, p.p50] as const) },
    { name: 'p90', color: '#f0a030', points: tl.filter((p) => p.p90 > 0).map((p) => [p.t, p.p90] as const) },
    { name: 'p99', color: '#d33', points: tl.filter((p) => p.p99 > 0).map((p) => [p.t, p.p99] as const) },
  ];
  const pts = r.metrics.points;
  const rate = (f: (p: (typeof pts)[number]) => number) =>
    pts.slice(1).map((p, i) => {
      const prev = pts[i] as (typeof pts)[number];
      return [p.t, Math.max(0, (f(p) - f(prev)) / Math.max(0.001, p.t - prev.t))] as const;
    });
  const gen: Series[] = [
    { name: 'Generator invocations/s', color: '#d33', points: rate((p) => p.generatorInvocations) },
    { name: 'cache hits/s', color: '#2e9e4f', points: rate((p) => p.cacheHits) },
    { name: 'coalesced/s', color: '#5b8def', points: rate((p) => p.cacheCoalesced) },
    { name: 'shed/s', color: '#f0a030', points: rate((p) => p.shed) },
  ];
  const memory: Series[] = [
    { name: 'RSS (MB)', color: '#333', points: pts.map((p) => [p.t, p.rssBytes / 1048576] as const) },
    { name: 'cache (MB)', color: '#5b8def', points: pts.map((p) => [p.t, p.cacheBytes / 1048576] as const) },
    { name: 'in flight', color: '#d33', points: pts.map((p) => [p.t, p.generatorInFlight] as const) },
  ];
  return [
    chart({ title: 'Throughput (requests/s, by arrival second)', yLabel: 'req/s', xMax, series: throughput, bands: b }),
    chart({
      title: 'Status over time (replies by class, by arrival second)',
      yLabel: 'replies',
      xMax,
      series: status,
      bands: b,
      stacked: true,
    }),
    chart({
      title: 'Latency percentiles of 200/304 (ms, log scale)',
      yLabel: 'ms',
      xMax,
      series: latency,
      bands: b,
      log: true,
    }),
    chart({
      title: 'Preprocessor /metrics: Generator, cache, shedding (per second)',
      yLabel: 'per s',
      xMax,
      series: gen,
      bands: b,
    }),
    chart({
      title: 'Preprocessor memory and Generator calls in flight',
      yLabel: 'MB / count',
      xMax,
      series: memory,
      bands: b,
    }),
  ];
}

function phaseTable(r: RunReport): string[][] {
  const head = [
    'phase',
    'time',
    'target/s',
    'sent',
    'replies/s',
    '200',
    '304',
    '308',
    'shed',
    'errors',
    'dropped',
    'p50',
    'p90',
    'p99',
    'max',
    'X-Cache',
  ];
  const rows = [...r.phases, { ...r.total, index: -1 }].map((p) => {
    const errors = ERROR_CLASSES.reduce((s, c) => s + p.classes[c], 0);
    return [
      p.name,
      `${+p.startS.toFixed(1)}–${+p.endS.toFixed(1)}s`,
      p.targetRps.toFixed(1),
      String(p.sent),
      p.completedRps.toFixed(1),
      String(p.classes.ok),
      String(p.classes.notModified),
      String(p.classes.redirect),
      String(p.classes.shed),
      String(errors),
      String(p.classes.dropped),
      ms(p.latency.p50),
      ms(p.latency.p90),
      ms(p.latency.p99),
      ms(p.latency.max),
      Object.entries(p.xCache)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ];
  });
  return [head, ...rows];
}

/** The plain-text summary printed at the end of a run. */
export function textSummary(r: RunReport): string {
  const table = phaseTable(r);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  const lines = table.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const g = r.generator;
  const rec = r.recovery;
  lines.push('');
  lines.push(`target ${r.target.url}${r.target.embedded ? ' (embedded stack)' : ''}; ${r.durationS}s; load: ${r.tool}`);
  lines.push(
    `Generator invocations ${g.lambdaInvocations ?? g.invocations ?? '?'} for ${r.uniqueKeys} unique keys; cache hits ${g.cacheHits ?? '?'}, coalesced ${g.coalesced ?? '?'}` +
      (g.lambda
        ? `; Lambda: cold starts ${g.lambda.coldStarts ?? '?'}, throttles ${g.lambda.throttles ?? '?'}, timeouts ${g.lambda.timeouts ?? '?'}, crashes ${g.lambda.crashes ?? '?'}`
        : ''),
  );
  lines.push(
    `Preprocessor RSS start ${mb(r.memory.rssStartBytes)}, max ${mb(r.memory.rssMaxBytes)}, end ${mb(r.memory.rssEndBytes)}; output cache max ${mb(r.memory.cacheMaxBytes)}`,
  );
  if (rec.spikeEndS !== undefined) {
    lines.push(
      `recovery: baseline p95 ${rec.baselineP95Ms !== undefined ? ms(rec.baselineP95Ms) : '-'}, bar ${rec.thresholdMs !== undefined ? ms(rec.thresholdMs) : '-'}; ` +
        (rec.recoveredAfterS === null
          ? 'NOT back under the bar before the run ended'
          : `back under it ${rec.recoveredAfterS}s after the rate returned to 1x (t=${rec.spikeEndS.toFixed(1)}s)`),
    );
  }
  lines.push('');
  for (const c of r.checks) lines.push(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
  return lines.join('\n');
}

/** A self-contained HTML page: summary, phase table, charts with the phases shaded. */
export function toHtml(r: RunReport): string {
  const table = phaseTable(r);
  const [head, ...rows] = table;
  const tableHtml = `<table><thead><tr>${(head ?? []).map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const checks = r.checks
    .map(
      (c) =>
        `<li class="${c.pass ? 'pass' : 'fail'}">${c.pass ? '✔' : '✘'} ${escapeXml(c.name)}: ${escapeXml(c.detail)}</li>`,
    )
    .join('');
  const summary = escapeXml(
    textSummary(r)
      .split('\n')
      .slice(table.length + 1)
      .join('\n'),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marquee ${escapeXml(r.scenario.name)} — ${escapeXml(r.startedAt)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eee}
td:first-child,th:first-child{text-align:left}.pass{color:#2e7d32}.fail{color:#c62828;font-weight:bold}
pre{background:#f6f6f6;padding:8px;font-size:12px;white-space:pre-wrap}figure{margin:16px 0}
</style></head><body>
<h1>Marquee load test: ${escapeXml(r.scenario.name)}</h1>
<p>${escapeXml(r.scenario.description)} Base rate ${r.scenario.baseRate}/s, ${r.windows.length} phases, ${r.durationS}s,
against <code>${escapeXml(r.target.url)}</code>${r.target.embedded ? ' (embedded stack)' : ''}, started ${escapeXml(r.startedAt)}.
Load from ${escapeXml(r.tool)}. Latency is measured from each request's scheduled arrival.</p>
<h2>Checks</h2><ul>${checks}</ul>
<h2>Phases</h2>${tableHtml}
<pre>${summary}</pre>
<h2>Charts</h2>
${charts(r)
  .map((svg) => `<figure>${svg}</figure>`)
  .join('\n')}
</body></html>
`;
}

/** Writes `<name>.json` and `<name>.html` into `dir`; returns their paths. */
export async function writeReports(r: RunReport, dir: string, name: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, `${name}.json`);
  const html = path.join(dir, `${name}.html`);
  await writeFile(json, toJson(r));
  await writeFile(html, toHtml(r));
  return { json, html };
}
