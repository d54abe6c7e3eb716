// The capacity model's printout: every assumption with its source, the figures at the base rate and
// at the spike, Lambda's scaling, and the cost beside a prescaled fleet. Markdown (`--markdown`) is
// what the README's cost section pastes; the plain text is the same tables, aligned.
import type { CapacityInputs, CapacityResult } from './model.js';

const usd = (v: number) => (v >= 100 ? `$${v.toFixed(0)}` : v >= 1 ? `$${v.toFixed(2)}` : `$${v.toFixed(4)}`);
const num = (v: number, digits = 1) => (Number.isInteger(v) ? String(v) : v.toFixed(digits));
const pct = (v: number) => `${+(v * 100).toFixed(1)} %`;

const INPUT_LABELS: Record<keyof CapacityInputs, string> = {
  rate: 'CDN requests/s at 1x',
  spike: 'spike multiple',
  hitRatio: 'CDN hit ratio',
  originHitRatio: 'origin hit ratio (no Generator call)',
  generatorMs: 'Generator ms per render, where measured',
  generatorCpuMs: 'Generator CPU ms per render',
  preprocessorCpuMs: 'Preprocessor CPU ms per origin request',
  keptPerRender: 'renders kept in the store, per render',
  putMs: "billed ms a kept render's PUT adds",
  coldStartMs: 'cold start, billed ms',
  lambdaMemoryMb: 'Lambda memory, MB',
  mbPerVcpu: 'Lambda MB per vCPU',
  accountConcurrency: 'account concurrency limit',
  initialBurst: 'scaling: environments at once',
  perTenSeconds: 'scaling: environments per 10 s',
  taskVcpu: 'Fargate task vCPU',
  taskMemoryGb: 'Fargate task GB',
  utilisation: 'CPU target per task',
  minTasks: 'minimum tasks',
  spikeHoursPerMonth: 'spike hours per month',
  lambdaUsdPerGbSecond: 'Lambda USD per GB-s',
  lambdaUsdPerRequest: 'Lambda USD per request',
  fargateUsdPerVcpuHour: 'Fargate USD per vCPU-hour',
  fargateUsdPerGbHour: 'Fargate USD per GB-hour',
};

const RATIOS: ReadonlySet<keyof CapacityInputs> = new Set(['hitRatio', 'originHitRatio', 'utilisation']);

export interface Tables {
  assumptions: string[][];
  levels: string[][];
  scaling: string[][];
  cost: string[][];
}

export function tables(r: CapacityResult): Tables {
  const i = r.inputs;
  const assumptions = [
    ['input', 'value', 'source'],
    ...(Object.keys(INPUT_LABELS) as Array<keyof CapacityInputs>).map((k) => [
      INPUT_LABELS[k],
      RATIOS.has(k) ? pct(i[k].value) : String(+i[k].value.toPrecision(6)),
      i[k].source,
    ]),
  ];
  const b = r.base;
  const s = r.spike;
  const levels = [
    ['', `base (${num(b.cdnRps)} req/s)`, `spike ${num(i.spike.value)}x (${num(s.cdnRps)} req/s)`],
    ['origin requests/s (CDN misses)', num(b.originRps, 2), num(s.originRps, 2)],
    ['Generator renders/s', num(b.invocationsPerS, 2), num(s.invocationsPerS, 2)],
    ['renders kept/s (PUT after the reply)', num(b.keptPerS, 2), num(s.keptPerS, 2)],
    [
      `Lambda concurrency (Little: renders/s × ${+(r.lambdaSecondsPerInvocation * 1000).toFixed(1)} ms + kept/s × ${num(i.putMs.value)} ms PUT)`,
      num(b.concurrency, 2),
      num(s.concurrency, 2),
    ],
    ['Lambda environments', String(b.environments), String(s.environments)],
    ['Preprocessor vCPU busy', num(b.preprocessorVcpu, 3), num(s.preprocessorVcpu, 3)],
    ['Preprocessor tasks', String(b.preprocessorTasks), String(s.preprocessorTasks)],
    ['USD per hour: Lambda', usd(b.lambdaUsdPerHour), usd(s.lambdaUsdPerHour)],
    ['USD per hour: Preprocessor tasks', usd(b.tasksUsdPerHour), usd(s.tasksUsdPerHour)],
    ['USD per million images', usd(b.usdPerMillionImages), usd(s.usdPerMillionImages)],
  ];
  const sc = r.scaling;
  const scaling = [
    ['', 'figure'],
    ['new environments for the spike', String(sc.newEnvironments)],
    [
      'seconds until Lambda has them',
      sc.secondsToScale === 0
        ? '0 (within the first step)'
        : `${sc.secondsToScale} (${num(i.initialBurst.value)} at once, then ${num(i.perTenSeconds.value)} per 10 s)`,
    ],
    ['invocations throttled while scaling (retried, then shed)', String(sc.throttledWhileScaling)],
    [
      'over the account concurrency limit',
      sc.overAccountLimit
        ? `yes: ${s.environments} needed, ${i.accountConcurrency.value} allowed, ${pct(sc.shedAtLimit)} of spike renders cannot run — ask for a quota increase`
        : `no (${s.environments} of ${i.accountConcurrency.value})`,
    ],
    ['cold starts billed per spike', usd(sc.coldStartUsd)],
  ];
  const f = r.fleet;
  const m = r.monthly;
  const cost = [
    ['', 'Lambda + autoscaled Preprocessor', `fleet prescaled for the spike (${f.tasks} tasks)`],
    ['USD per million images at the base rate', usd(b.usdPerMillionImages), usd(f.usdPerMillionImagesAtBase)],
    ['USD per hour at the base rate', usd(b.usdPerHour), usd(f.usdPerHour)],
    ['USD per hour of spike', usd(s.usdPerHour + sc.coldStartUsd), usd(f.usdPerHour)],
    [`USD per month (730 h, ${num(m.hoursAtSpike)} h of spike)`, usd(m.serverlessUsd), usd(m.fleetUsd)],
  ];
  return { assumptions, levels, scaling, cost };
}

/** `right`: the columns holding figures (the first column, labels, is always left-aligned). */
function markdownTable(t: string[][], right: (column: number) => boolean = (i) => i > 0): string[] {
  const [head, ...rows] = t;
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${(head ?? []).map(esc).join(' | ')} |`,
    `|${(head ?? []).map((_, i) => (i > 0 && right(i) ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
}

function textTable(t: string[][]): string[] {
  const widths = (t[0] ?? []).map((_, i) => Math.max(...t.map((row) => (row[i] ?? '').length)));
  return t.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** The printout; `markdown` for the README, with the command that produced it. */
export function render(r: CapacityResult, o: { markdown: boolean; command: string; reportFile?: string }): string {
  const t = tables(r);
  const fleet = r.fleet;
  const notes = [
    `Little's law: Lambda concurrency = renders/s × billed seconds each, plus kept renders/s × the PUT's billed ms (render time ${+(r.lambdaSecondsPerInvocation * 1000).toFixed(1)} ms: the measured time${r.inputs.lambdaMemoryMb.value < r.inputs.mbPerVcpu.value ? `, × ${+(r.inputs.mbPerVcpu.value / r.inputs.lambdaMemoryMb.value).toFixed(2)} for the CPU share ${r.inputs.lambdaMemoryMb.value} MB buys` : `; ${r.inputs.lambdaMemoryMb.value} MB buys at least a vCPU, and a render uses one core`}).`,
    `The prescaled fleet runs the Preprocessor and the renders in the same Fargate tasks, sized for the spike at the CPU target: ${+fleet.vcpu.toFixed(3)} vCPU → ${fleet.tasks} tasks of ${r.inputs.taskVcpu.value} vCPU / ${r.inputs.taskMemoryGb.value} GB, on all month.`,
    "Not counted on either side (the same for both): CloudFront, the ALB, NAT, S3 requests and storage, logs. A fleet's own store writes (S3 PUTs from the tasks) cost it no Lambda. Local measurements stand for Graviton cores: check with a run on AWS.",
  ];
  if (o.markdown) {
    return [
      `### Capacity and cost at a ${num(r.inputs.spike.value)}x spike (model)`,
      '',
      `Generated by \`${o.command}\`${o.reportFile ? ` from the figures measured in \`${o.reportFile}\`` : ''}; every input with its source below. Prices are on-demand us-east-1 without the free tier.`,
      '',
      ...markdownTable(t.levels),
      '',
      ...markdownTable(t.scaling),
      '',
      ...markdownTable(t.cost),
      '',
      ...notes.map((n) => `- ${n}`),
      '',
      '<details><summary>Assumptions and sources</summary>',
      '',
      ...markdownTable(t.assumptions, (i) => i === 1),
      '',
      '</details>',
      '',
    ].join('\n');
  }
  return [
    'Assumptions',
    ...textTable(t.assumptions),
    '',
    'Base and spike',
    ...textTable(t.levels),
    '',
    'Lambda scaling',
    ...textTable(t.scaling),
    '',
    'Cost',
    ...textTable(t.cost),
    '',
    ...notes,
    '',
  ].join('\n');
}
