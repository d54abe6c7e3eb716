// npm run capacity -- --rate R [--spike 20] [--hit-ratio H] [--report REPORT.json …] [--markdown | --json]
//   [--origin-hit-ratio F] [--generator-ms N] [--generator-cpu-ms N] [--preprocessor-cpu-ms N]
//   [--cold-start-ms N] [--kept-per-render F] [--put-ms N] [--lambda-memory-mb N] [--account-concurrency N] [--initial-burst N]
//   [--burst-per-10s N] [--task-vcpu N] [--task-memory-gb N] [--utilisation F] [--min-tasks N] [--spike-hours N]
// Without --report it reads loadtest/reports/bench-latest.json when there is one; with several, a
// figure comes from the first report that measured it (a bench's clean render times, then a load
// report's hit ratios and store writes). A stated flag
// wins over a measured figure, a measured figure over a default; the printout says which each is.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readFraction, readInteger } from '@marquee/shared';
import { reportsDir } from '../runner/paths.js';
import { buildInputs, type StatedInputs } from './inputs.js';
import { measuredFrom, mergeMeasured, type MeasuredFigures } from './measured.js';
import { capacity } from './model.js';
import { render } from './render.js';

const DECIMAL = /^(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,9})?$/;

function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  if (!(n > 0)) throw new Error(`${flag} expects a positive number like 20 or 0.5, got "${text}"`);
  return n;
}

function nonNegative(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!DECIMAL.test(text)) throw new Error(`${flag} expects a number ≥ 0 like 1 or 0.5, got "${text}"`);
  return Number(text);
}

function fraction(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = readFraction(text);
  if (n === undefined) throw new Error(`${flag} expects a fraction 0..1 like 0.95, got "${text}"`);
  return n;
}

function integer(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = readInteger(text, min, 10_000_000);
  if (n === undefined) throw new Error(`${flag} expects a whole number ≥ ${min}, got "${text}"`);
  return n;
}

const NUMBER_FLAGS = [
  'rate',
  'spike',
  'hit-ratio',
  'origin-hit-ratio',
  'generator-ms',
  'generator-cpu-ms',
  'preprocessor-cpu-ms',
  'cold-start-ms',
  'kept-per-render',
  'put-ms',
  'lambda-memory-mb',
  'account-concurrency',
  'initial-burst',
  'burst-per-10s',
  'task-vcpu',
  'task-memory-gb',
  'utilisation',
  'min-tasks',
  'spike-hours',
] as const;

export interface CapacityArgs {
  stated: StatedInputs;
  reports: string[];
  format: 'text' | 'markdown' | 'json';
}

export function parseCapacityArgs(argv: readonly string[]): CapacityArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      ...Object.fromEntries(NUMBER_FLAGS.map((f) => [f, { type: 'string' as const }])),
      report: { type: 'string', multiple: true, default: [] },
      markdown: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const v = values as Record<string, string | string[] | boolean | undefined>;
  const s = (flag: string) => v[flag] as string | undefined;
  if (v.markdown && v.json) throw new Error('--markdown or --json, not both');
  const rate = positive('--rate', s('rate'));
  if (rate === undefined) throw new Error('--rate is needed: CDN requests per second at 1x');
  const stated: StatedInputs = {
    rate,
    spike: positive('--spike', s('spike')),
    hitRatio: fraction('--hit-ratio', s('hit-ratio')),
    originHitRatio: fraction('--origin-hit-ratio', s('origin-hit-ratio')),
    generatorMs: positive('--generator-ms', s('generator-ms')),
    generatorCpuMs: positive('--generator-cpu-ms', s('generator-cpu-ms')),
    preprocessorCpuMs: positive('--preprocessor-cpu-ms', s('preprocessor-cpu-ms')),
    coldStartMs: positive('--cold-start-ms', s('cold-start-ms')),
    keptPerRender: nonNegative('--kept-per-render', s('kept-per-render')),
    putMs: nonNegative('--put-ms', s('put-ms')),
    lambdaMemoryMb: integer('--lambda-memory-mb', s('lambda-memory-mb'), 128),
    accountConcurrency: integer('--account-concurrency', s('account-concurrency'), 1),
    initialBurst: integer('--initial-burst', s('initial-burst'), 1),
    perTenSeconds: integer('--burst-per-10s', s('burst-per-10s'), 1),
    taskVcpu: positive('--task-vcpu', s('task-vcpu')),
    taskMemoryGb: positive('--task-memory-gb', s('task-memory-gb')),
    utilisation: fraction('--utilisation', s('utilisation')),
    minTasks: integer('--min-tasks', s('min-tasks'), 0),
    spikeHoursPerMonth: positive('--spike-hours', s('spike-hours')),
  };
  if (stated.utilisation === 0) throw new Error('--utilisation must be above 0');
  return {
    stated,
    format: v.markdown ? 'markdown' : v.json ? 'json' : 'text',
    reports: values.report,
  };
}

/** The command as a reader would type it again (for the Markdown's provenance line). */
export function commandLine(argv: readonly string[]): string {
  const shown = argv.filter((a) => a !== '--markdown' && a !== '--json');
  return `npm run capacity -- ${shown.map((a) => (/^[\w./=:-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const args = parseCapacityArgs(argv);
  const fallback = path.join(reportsDir(import.meta.url), 'bench-latest.json');
  const files = args.reports.length > 0 ? args.reports : existsSync(fallback) ? [fallback] : [];
  const measured: MeasuredFigures[] = [];
  for (const file of files) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new Error(`--report ${file}: ${(err as Error).message}`, { cause: err });
    }
    measured.push(measuredFrom(json, file));
  }
  if (args.reports.length === 0 && files.length > 0)
    process.stderr.write(`measured figures from ${path.relative(process.cwd(), fallback)}\n`);
  const result = capacity(buildInputs(args.stated, mergeMeasured(measured)));
  if (args.format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else
    process.stdout.write(
      render(result, {
        markdown: args.format === 'markdown',
        command: commandLine(argv),
        ...(files.length > 0 ? { reportFile: files.map((f) => path.relative(process.cwd(), f)).join('`, `') } : {}),
      }),
    );
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
