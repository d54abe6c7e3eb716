import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extensionOfContentType } from './content-type.js';
import { decode, differenceImage } from './compare.js';
import type { GatePair, GateResult } from './gate.js';
import type { ShiftResult } from './shift.js';

/**
 * A release's report: `report.json` (every pair, the verdict, the shift), and `index.html` for a
 * person: the worst pairs side by side, live version and candidate, with their difference image.
 */

export interface ReleaseReport {
  functionName: string;
  alias: string;
  baseline: string;
  candidate: string;
  candidateSource: string;
  sample: { size: number; kinds: number; covered: number; universe: number };
  gate: Omit<GateResult, 'renders'>;
  shift?: ShiftResult;
  timings: { publishMs: number; gateMs: number; shiftMs?: number; totalMs: number };
  verdict: 'PASS' | 'FAIL';
}

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function fileSafe(key: string): string {
  return key.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

function pairRow(pair: GatePair): string {
  const d = pair.dssim === undefined ? '—' : pair.dssim.toExponential(2);
  const bytes = `${pair.baseline.bytes ?? '—'} → ${pair.candidate.bytes ?? '—'}`;
  return `<tr class="${pair.failure ? 'fail' : 'pass'}"><td>${escape(pair.path)}</td><td>${escape(pair.kind)}</td><td>${d}</td><td>${bytes}</td><td>${escape(pair.failure ?? (pair.identical ? 'identical bytes' : 'same look'))}</td></tr>`;
}

/** Writes the report folder; answers the HTML page's path. */
export async function writeReport(dir: string, report: ReleaseReport, gate: GateResult): Promise<string> {
  await mkdir(join(dir, 'pairs'), { recursive: true });
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const worst = [...gate.renders.keys()]
    .map((key) => gate.pairs.find((p) => p.key === key))
    .filter((p): p is GatePair => p !== undefined)
    .sort((a, b) => (b.failure ? 1 : 0) - (a.failure ? 1 : 0) || (b.dssim ?? Infinity) - (a.dssim ?? Infinity));
  const figures: string[] = [];
  for (const pair of worst) {
    const r = gate.renders.get(pair.key);
    if (r === undefined) continue;
    const name = fileSafe(pair.key);
    const cells: string[] = [];
    for (const [side, render] of [
      ['live', r.baseline],
      ['candidate', r.candidate],
    ] as const) {
      if (!render.ok) {
        cells.push(`<div class="missing">${side}: ${escape(render.error)}</div>`);
        continue;
      }
      const file = `pairs/${name}.${side}.${extensionOfContentType(render.contentType)}`;
      await writeFile(join(dir, file), render.body);
      cells.push(
        `<figure><img src="${file}" alt="${side}"><figcaption>${side} (v${escape(render.executed ?? '?')})</figcaption></figure>`,
      );
    }
    if (
      r.baseline.ok &&
      r.candidate.ok &&
      r.baseline.width === r.candidate.width &&
      r.baseline.height === r.candidate.height
    ) {
      const [a, b] = await Promise.all([decode(r.baseline.body), decode(r.candidate.body)]);
      if (a.width === b.width && a.height === b.height) {
        const file = `pairs/${name}.diff.png`;
        await writeFile(join(dir, file), await differenceImage(a, b));
        cells.push(`<figure><img src="${file}" alt="difference"><figcaption>difference (×16)</figcaption></figure>`);
      }
    }
    figures.push(
      `<section><h3>${escape(pair.path)}</h3><p>${escape(pair.kind)} · ${escape(pair.failure ?? 'passes')}${pair.dssim !== undefined ? ` · DSSIM ${pair.dssim.toExponential(2)}` : ''}</p><div class="row">${cells.join('')}</div></section>`,
    );
  }
  const shift = report.shift
    ? `<h2>Traffic shift: ${escape(report.shift.outcome)}</h2><table><tr><th>weight</th><th>candidate invocations</th><th>failures</th><th>p95 ms (candidate / live on the same derivatives)</th><th>verdict</th></tr>${report.shift.steps
        .map(
          (s) =>
            `<tr class="${s.breach ? 'fail' : 'pass'}"><td>${s.weight} %</td><td>${s.candidate.invocations}</td><td>${s.candidate.failures}</td><td>${s.candidate.p95Ms.toFixed(0)} / ${s.candidate.referenceP95Ms.toFixed(0)}</td><td>${escape(s.breach ?? 'ok')}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Release ${escape(report.functionName)} v${escape(report.baseline)} → v${escape(report.candidate)}: ${report.verdict}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}tr.fail{background:#fdd}.row{display:flex;gap:1rem;align-items:flex-start}figure{margin:0}img{max-width:30vw;background:repeating-conic-gradient(#eee 0 25%,#fff 0 50%) 0 0/16px 16px}h1 .FAIL{color:#b00}h1 .PASS{color:#070}</style>
<h1>Release of ${escape(report.functionName)}: version ${escape(report.baseline)} → ${escape(report.candidate)} <span class="${report.verdict}">${report.verdict}</span></h1>
<p>Candidate: ${escape(report.candidateSource)}. Sample: ${report.sample.size} derivatives of ${report.sample.universe}, ${report.sample.covered} of ${report.sample.kinds} kinds. Gate: ${report.gate.failures.length} of ${report.gate.pairs.length} pairs past DSSIM ${report.gate.threshold.toExponential(1)} (or differing in format or dimensions, or failing). ${(report.timings.totalMs / 1000).toFixed(1)} s in all.</p>
${shift}
<h2>Worst pairs</h2>${figures.join('\n')}
<h2>Every pair</h2><table><tr><th>URL</th><th>kind</th><th>DSSIM</th><th>bytes</th><th>verdict</th></tr>${[...report.gate.failures, ...report.gate.pairs.filter((p) => p.failure === undefined)].map(pairRow).join('')}</table>
</html>
`;
  const page = join(dir, 'index.html');
  await writeFile(page, html);
  return page;
}
