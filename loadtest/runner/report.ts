import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PHASE_KEYS, phaseLimits, type PhaseLimits } from '../scenarios/limits.js';
import { charts } from './charts.js';
import { ERROR_CLASSES } from './classify.js';
import type { ComparisonRow } from './compare.js';
import type { RunReport } from './run.js';
import type { PhaseSummary } from './stats.js';
import { escapeXml } from './svg.js';
import type { Check } from './verdict.js';

const mb = (b: number | undefined) => (b === undefined ? '-' : `${(b / 1048576).toFixed(0)} MB`);
const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)}`;
const dash = (v: number | undefined, f: (x: number) => string = String) => (v === undefined ? '-' : f(v));
const pct = (rate: number) => `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)} %`;
const errorsOf = (p: PhaseSummary) => ERROR_CLASSES.reduce((s, c) => s + p.classes[c], 0);
const phaseLabel = (p: PhaseSummary) => (p.warmup ? `${p.name}*` : p.name);

/** The run as JSON: everything the HTML shows, for tools and later comparisons (`--baseline`). */
export function toJson(r: RunReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

function rows(r: RunReport): PhaseSummary[] {
  return [...r.phases, r.total];
}

/** Replies by class per phase, by arrival. */
export function repliesTable(r: RunReport): string[][] {
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
    'shed %',
    'errors',
    'error %',
    'dropped',
    'Retry-After seen',
  ];
  return [
    head,
    ...rows(r).map((p) => [
      phaseLabel(p),
      `${+p.startS.toFixed(1)}–${+p.endS.toFixed(1)} s`,
      p.targetRps.toFixed(1),
      String(p.sent),
      p.completedRps.toFixed(1),
      String(p.classes.ok),
      String(p.classes.notModified),
      String(p.classes.redirect),
      String(p.classes.shed),
      pct(p.shedRate),
      String(errorsOf(p)),
      pct(p.errorRate),
      String(p.classes.dropped),
      Object.entries(p.retryAfter ?? {})
        .map(([v, n]) => `${v} s ×${n}`)
        .join(', ') || '-',
    ]),
  ];
}

/** Latency of successful replies per phase, by arrival. */
export function latencyTable(r: RunReport): string[][] {
  const head = ['phase', '200/304', 'p50 ms', 'p90 ms', 'p95 ms', 'p99 ms', 'max ms', 'mean ms', 'X-Cache'];
  return [
    head,
    ...rows(r).map((p) => [
      phaseLabel(p),
      String(p.latency.count),
      ms(p.latency.p50),
      ms(p.latency.p90),
      ms(p.latency.p95),
      ms(p.latency.p99),
      ms(p.latency.max),
      ms(p.latency.mean),
      Object.entries(p.xCache)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ]),
  ];
}

/** The Generator's stages per phase (Server-Timing of the replies that rendered) and the Preprocessor's own timing. */
export function stagesTable(r: RunReport): string[][] {
  // A Preprocessor that exports marquee_generator_stage_seconds{stage} gets its own column.
  const fromMetrics = r.resources.some((x) => x.stageMsFromMetrics !== undefined);
  const head = [
    'phase',
    'renders',
    'queue p50/p95 ms',
    'invoke p50/p95 ms',
    'fetch p50/p95 ms',
    'render p50/p95 ms',
    'call mean ms (/metrics)',
    ...(fromMetrics ? ['stage means ms (/metrics)'] : []),
    'in flight max',
    'queued max',
  ];
  return [
    head,
    ...r.phases.map((p, i) => {
      const res = r.resources[i];
      const s = p.stages;
      const pair = (x: { count: number; p50: number; p95: number }) =>
        x.count > 0 ? `${ms(x.p50)} / ${ms(x.p95)}` : '-';
      return [
        phaseLabel(p),
        String(s.render.count),
        pair(s.queue),
        pair(s.invoke),
        pair(s.fetch),
        pair(s.render),
        dash(res?.generatorCallMs, ms),
        ...(fromMetrics
          ? [
              Object.entries(res?.stageMsFromMetrics ?? {})
                .map(([k, v]) => `${k} ${ms(v)}`)
                .join(', ') || '-',
            ]
          : []),
        dash(res?.inFlightMax),
        dash(res?.queuedMax),
      ];
    }),
  ];
}

/** The CDN's hit ratio of a phase from its reply headers, by arrival. */
function cdnRatio(p: PhaseSummary): string | undefined {
  const n = Object.values(p.cdn ?? {}).reduce((a, b) => a + b, 0);
  return n > 0 ? pct((p.cdn.HIT ?? 0) / n) : undefined;
}

/** What the origin and the machine did per phase (by completion, sampled once a second). */
export function serverTable(r: RunReport): string[][] {
  const head = [
    'phase',
    ...(r.target.cdn ? ['CDN hit ratio'] : []),
    'origin req/s',
    'renders/s',
    'renders kept/s',
    'stack cores (tree / main)',
    'load generator cores',
    'machine cores busy',
    'stack main CPU ms / origin req',
  ];
  return [
    head,
    ...r.phases.map((p, i) => {
      const res = r.resources[i];
      const cpu = res?.cpu;
      return [
        phaseLabel(p),
        ...(r.target.cdn ? [cdnRatio(p) ?? dash(res?.cdnHitRatio, (v) => `${pct(v)} (origin)`)] : []),
        dash(res?.originRps, (v) => v.toFixed(1)),
        dash(res?.invocationsPerS, (v) => v.toFixed(1)),
        dash(res?.storeWritesPerS, (v) => v.toFixed(1)),
        cpu?.stackTree !== undefined
          ? `${cpu.stackTree.toFixed(2)} / ${dash(cpu.stackMain, (v) => v.toFixed(2))}`
          : '-',
        dash(cpu?.loadGen, (v) => v.toFixed(2)),
        dash(cpu?.machine, (v) => v.toFixed(2)),
        dash(res?.stackMainCpuMsPerRequest, (v) => v.toFixed(2)),
      ];
    }),
  ];
}

const limitText = (l: PhaseLimits) =>
  PHASE_KEYS.map((k) => {
    const v = l[k];
    if (v === null) return `${k} off`;
    return k === 'maxErrorRate' || k === 'maxShedRate' ? `${k} ${pct(v)}` : `${k} ${v}`;
  }).join(', ');

/** Index of the first line of `limitsLines` after the per-phase ones (the run's limits, the --slo given). */
const phaseLineCount = (r: RunReport) => r.scenario.phases.length;

/** The limits in force, per phase and for the run. */
export function limitsLines(r: RunReport): string[] {
  const s = r.scenario;
  const lines = s.phases.map((p) =>
    p.warmup ? `${p.name}: warm-up, not judged` : `${p.name}: ${limitText(phaseLimits(s, p))}`,
  );
  const t = s.thresholds;
  const run = [
    t.recoveryS !== undefined ? `recoveryS ${t.recoveryS ?? 'off'}` : undefined,
    `maxMemoryGrowthMb ${t.maxMemoryGrowthMb ?? 'off'}`,
  ].filter((x) => x !== undefined);
  lines.push(`run: ${run.join(', ')}`);
  if (r.sloOverrides.length > 0)
    lines.push(
      `--slo given: ${r.sloOverrides.map((o) => `${o.phase ? `${o.phase}.` : ''}${o.key}=${o.value ?? 'off'}`).join(' ')}`,
    );
  return lines;
}

function figure(v: number | undefined, unit: string | undefined): string {
  if (v === undefined) return '-';
  const u = unit === '%' ? ' %' : unit ? ` ${unit}` : '';
  return `${+v.toFixed(2)}${u}`;
}

const relationSign = (figure: number, limit: number, relation: Check['relation']) =>
  relation === 'equals' ? (figure === limit ? '=' : '≠') : figure <= limit ? '≤' : '>';

/** One check, one line: status, scope, what, the figure against its limit, how it was measured. */
export function checkLine(c: Check, widths = { scope: 8, name: 28 }): string {
  const status = c.status.toUpperCase().padEnd(4);
  const against =
    c.figure !== undefined && c.limit !== undefined
      ? `${figure(c.figure, c.unit)} ${relationSign(c.figure, c.limit, c.relation)} ${figure(c.limit, c.unit)}`
      : c.limit !== undefined
        ? `limit ${figure(c.limit, c.unit)}`
        : '';
  return `${status}  ${c.scope.padEnd(widths.scope)}  ${c.name.padEnd(widths.name)}  ${against}${against ? '  ' : ''}(${c.detail})`;
}

/** The verdict line: what a reader sees first. */
export function verdictLine(r: RunReport): string {
  const failed = r.checks.filter((c) => c.status === 'fail');
  const skipped = r.checks.filter((c) => c.status === 'skip').length;
  const head = `VERDICT: ${r.verdict.toUpperCase()} — ${r.checks.length - failed.length - skipped} of ${r.checks.length} checks passed`;
  const fails = failed.length > 0 ? `; failed: ${failed.map((c) => `${c.scope} ${c.name}`).join(', ')}` : '';
  return `${head}${skipped > 0 ? `, ${skipped} not measured` : ''}${fails}`;
}

function textTable(table: string[][]): string[] {
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table.map((row) =>
    row
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** One cell of the comparison: `before → after unit (±change %)`. */
function changeCell(row: ComparisonRow | undefined): string {
  if (!row || (row.before === undefined && row.after === undefined)) return '-';
  const v = (x: number | undefined) => (x === undefined ? '?' : `${+x.toPrecision(3)}`);
  const unit = row.unit === '%' ? ' %' : row.unit ? ` ${row.unit}` : '';
  const change = row.changePct === undefined ? '' : ` (${row.changePct > 0 ? '+' : ''}${row.changePct} %)`;
  return `${v(row.before)} → ${v(row.after)}${unit}${change}`;
}

/** The comparison with the baseline run, one row per phase: the judged figures, then the server side, then the run. */
export function comparisonTables(r: RunReport): Array<{ title: string; table: string[][] }> {
  const c = r.comparison;
  if (!c) return [];
  const scopes = [...new Set(c.rows.map((row) => row.scope))].filter((x) => x !== 'run');
  const pivot = (figures: readonly string[]) => {
    const present = figures.filter((f) => c.rows.some((row) => row.figure === f && row.after !== undefined));
    return [
      ['phase', ...present],
      ...scopes.map((scope) => [
        scope,
        ...present.map((f) => changeCell(c.rows.find((row) => row.scope === scope && row.figure === f))),
      ]),
    ];
  };
  const run = c.rows.filter((row) => row.scope === 'run');
  return [
    {
      title: 'Replies and latency (baseline → this run)',
      table: pivot(['replies/s', 'shed', 'errors', 'p50', 'p95', 'p99', 'max']),
    },
    {
      title: 'Server side (baseline → this run)',
      table: pivot(['CDN hit ratio', 'origin req/s', 'Generator renders/s', 'stack cores', 'load generator cores']),
    },
    {
      title: 'The run (baseline → this run)',
      table: [['figure', 'change'], ...run.map((row) => [row.figure, changeCell(row)])],
    },
  ];
}

/** The objects the Generator wrote to the derivative store during the run, as the bucket lists them. */
function storeFacts(r: RunReport): string {
  const s = r.store;
  if (s === undefined) return 'store objects written not counted (no derivatives bucket to list)';
  if ('error' in s) return `store objects written not counted (${s.error})`;
  return `${s.written} store objects written to s3://${s.bucket}/${s.prefix} (${s.objectsBefore} → ${s.objectsAfter} objects; counted ${(s.waitedMs / 1000).toFixed(1)} s after the run, up to ${(s.settleMs / 1000).toFixed(0)} s)`;
}

/** The facts under the tables: target, Generator, memory, recovery, CPU source. */
export function factLines(r: RunReport): string[] {
  const g = r.generator;
  const rec = r.recovery;
  const lines = [
    `target ${r.target.url}${r.target.cdn ? ` through the CDN (origin ${r.target.originUrl})` : ''}${r.target.embedded ? ' (embedded stack)' : ''}; ${r.durationS} s; load: ${r.tool}`,
    `Generator: ${g.invocations ?? '?'} renders for ${r.uniqueKeys} unique keys, ${g.storeWrites ?? '?'} asked to keep${g.lambdaInvocations !== undefined ? `, ${g.lambdaInvocations} invocations at the Lambda endpoint` : ''}; ${storeFacts(r)}; output cache hits ${g.cacheHits ?? '?'}, coalesced ${g.coalesced ?? '?'}` +
      (g.lambda
        ? `; Lambda: cold starts ${g.lambda.coldStarts ?? '?'}, throttles ${g.lambda.throttles ?? '?'}, timeouts ${g.lambda.timeouts ?? '?'}, crashes ${g.lambda.crashes ?? '?'}`
        : ''),
    `Preprocessor RSS start ${mb(r.memory.rssStartBytes)}, max ${mb(r.memory.rssMaxBytes)}, end ${mb(r.memory.rssEndBytes)}; output cache max ${mb(r.memory.cacheMaxBytes)}` +
      (r.memory.growth ? `; growth net of the cache after the warm-up ${mb(r.memory.growth.growthBytes)}` : ''),
  ];
  const puts = g.puts;
  if (puts?.putMs && puts.replyMs)
    lines.push(
      `Kept renders: ${puts.kept} PUTs after the reply, p50 ${puts.putMs.p50} ms / p95 ${puts.putMs.p95} ms billed on top of a reply of p50 ${puts.replyMs.p50} ms / p95 ${puts.replyMs.p95} ms (Generator log lines; the local S3, no guide to S3's own latency)` +
        (puts.failed > 0 ? `; ${puts.failed} PUTs failed (the replies were served)` : ''),
    );
  if (r.cdn)
    lines.push(
      `CDN counters: ${r.cdn.hits} hits, ${r.cdn.misses} misses, ${r.cdn.passes} passes → hit ratio ${r.cdn.hitRatio !== undefined ? pct(r.cdn.hitRatio) : '-'}; ${r.cdn.backendRequests} requests to the origin`,
    );
  if (rec.spikeEndS !== undefined) {
    lines.push(
      `recovery: base-phase p95 ${dash(rec.baselineP95Ms, ms)} ms (warm-up excluded), bar ${dash(rec.thresholdMs, ms)} ms over ${rec.windowS ?? '?'} s windows; ` +
        (rec.unjudgeable !== undefined
          ? `not judged: ${rec.unjudgeable}`
          : rec.recoveredAfterS === null || rec.recoveredAfterS === undefined
            ? 'NOT back under the bar before the run ended'
            : `back under it ${rec.recoveredAfterS} s after the rate returned to 1x (t=${rec.spikeEndS.toFixed(1)} s)`),
    );
  }
  lines.push(`CPU: ${r.usage.source}`);
  lines.push(
    'Latency and replies go by arrival (the second a request was due); origin and CPU figures by completion, sampled once a second. * warm-up: reported, not judged, not part of the baseline.',
  );
  return lines;
}

/** The plain-text summary printed at the end of a run: verdict first and last. */
export function textSummary(r: RunReport): string {
  const lines = [verdictLine(r), ''];
  const section = (title: string, table: string[][]) => {
    if (table.length === 0) return;
    lines.push(title, ...textTable(table), '');
  };
  section('Replies by phase', repliesTable(r));
  section('Latency of 200/304 by phase', latencyTable(r));
  section('Generator stages (Server-Timing of the replies that rendered)', stagesTable(r));
  section('Origin and CPU', serverTable(r));
  lines.push(...factLines(r), '');
  lines.push('Limits', ...limitsLines(r), '');
  if (r.comparison) {
    lines.push(`Compared with ${r.comparison.file} (${r.comparison.startedAt})`, '');
    for (const { title, table } of comparisonTables(r)) section(title, table);
    if (r.comparison.differences.length > 0)
      lines.push(`the runs differ in set-up: ${r.comparison.differences.join('; ')}`, '');
  }
  const widths = {
    scope: Math.max(...r.checks.map((c) => c.scope.length), 5),
    name: Math.max(...r.checks.map((c) => c.name.length), 10),
  };
  lines.push('Checks');
  const order: Record<Check['status'], number> = { fail: 0, skip: 1, pass: 2 };
  for (const c of [...r.checks].sort((a, b) => order[a.status] - order[b.status])) lines.push(checkLine(c, widths));
  lines.push('', verdictLine(r));
  return lines.join('\n');
}

/** A table; `text` names the columns of words (left-aligned), figures stay right-aligned. */
function htmlTable(table: string[][], text: readonly number[] = [0]): string {
  const [head, ...body] = table;
  const cls = (i: number) => (text.includes(i) ? ' class="text"' : '');
  return `<table><thead><tr>${(head ?? []).map((h, i) => `<th${cls(i)}>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((row) => `<tr>${row.map((c, i) => `<td${cls(i)}>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** The limits per phase as a table (what the checks were held to). */
export function limitsTable(r: RunReport): string[][] {
  const s = r.scenario;
  const show = (k: (typeof PHASE_KEYS)[number], v: number | null) =>
    v === null ? 'off' : k === 'maxErrorRate' || k === 'maxShedRate' ? pct(v) : `${v} ms`;
  return [
    ['phase', ...PHASE_KEYS],
    ...s.phases.map((p) =>
      p.warmup
        ? [`${p.name}*`, ...PHASE_KEYS.map(() => 'not judged')]
        : [p.name, ...PHASE_KEYS.map((k) => show(k, phaseLimits(s, p)[k]))],
    ),
  ];
}

/** A self-contained HTML page: the verdict, the checks, the tables, the charts with the phases shaded. */
export function toHtml(r: RunReport): string {
  const order: Record<Check['status'], number> = { fail: 0, skip: 1, pass: 2 };
  const checks = [...r.checks]
    .sort((a, b) => order[a.status] - order[b.status])
    .map(
      (c) =>
        `<tr class="${c.status}"><td class="text">${c.status.toUpperCase()}</td><td class="text">${escapeXml(c.scope)}</td><td class="text">${escapeXml(c.name)}</td><td>${escapeXml(figure(c.figure, c.unit))}</td><td>${escapeXml(figure(c.limit, c.unit))}</td><td class="text detail">${escapeXml(c.detail)}</td></tr>`,
    )
    .join('');
  const comparison = r.comparison
    ? `<h2>Compared with the baseline run</h2><p><code>${escapeXml(r.comparison.file)}</code>, started ${escapeXml(r.comparison.startedAt)}.${
        r.comparison.differences.length > 0
          ? ` The runs differ in set-up: ${escapeXml(r.comparison.differences.join('; '))}.`
          : ''
      } The latency chart draws the baseline's p95 and p99 dashed.</p>${comparisonTables(r)
        .map(({ title, table }) => `<h3>${escapeXml(title)}</h3>${htmlTable(table)}`)
        .join('')}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marquee ${escapeXml(r.scenario.name)}: ${r.verdict.toUpperCase()} — ${escapeXml(r.startedAt)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eee}
td.text,th.text{text-align:left}td{white-space:nowrap}td.detail{color:#555;white-space:normal}
tr.pass td:first-child{color:#2e7d32}tr.fail td{color:#c62828;font-weight:bold}tr.skip td:first-child{color:#777}
.verdict{font-size:22px;font-weight:bold;padding:10px 14px;border-radius:4px;display:inline-block}
.verdict.pass{background:#e6f4ea;color:#1e6b2f}.verdict.fail{background:#fdecea;color:#b3261e}
ul.facts{font-size:13px}figure{margin:16px 0}
</style></head><body>
<h1>Marquee load test: ${escapeXml(r.scenario.name)}</h1>
<p class="verdict ${r.verdict}">${escapeXml(verdictLine(r))}</p>
<p>${escapeXml(r.scenario.description)} Base rate ${r.scenario.baseRate}/s, ${r.windows.length} phases, ${r.durationS} s,
against <code>${escapeXml(r.target.url)}</code>${r.target.cdn ? ' through the CDN' : ''}${r.target.embedded ? ' (embedded stack)' : ''}, started ${escapeXml(r.startedAt)}.
Load from ${escapeXml(r.tool)}. Latency is measured from each request's scheduled arrival.</p>
<h2>Checks</h2>
<table><thead><tr><th class="text">status</th><th class="text">scope</th><th class="text">check</th><th>figure</th><th>limit</th><th class="text">how it was measured</th></tr></thead><tbody>${checks}</tbody></table>
<h3>Limits</h3>${htmlTable(limitsTable(r))}
<p>${escapeXml(limitsLines(r).slice(phaseLineCount(r)).join('; '))}</p>
<h2>Replies by phase</h2>${htmlTable(repliesTable(r), [0, 1, 13])}
<h2>Latency of 200/304 by phase (ms)</h2>${htmlTable(latencyTable(r), [0, 8])}
<h2>Generator stages</h2><p>From the <code>Server-Timing</code> header of the replies that rendered (X-Cache: miss), by arrival; the call mean from the Preprocessor's <code>marquee_generator_duration_seconds</code>.</p>${htmlTable(stagesTable(r))}
<h2>Origin and CPU</h2>${htmlTable(serverTable(r))}
<ul class="facts">${factLines(r)
    .map((l) => `<li>${escapeXml(l)}</li>`)
    .join('')}</ul>
${comparison}
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
