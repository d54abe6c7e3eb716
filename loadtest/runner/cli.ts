// node loadtest/dist/runner/cli.js <baseline|spike20x|soak> [--url URL] [--smoke] [--base-rate N]
//   [--time-scale F] [--max-in-flight N] [--verify all|unique|none] [--out DIR] [--lambda-concurrency N]
// Without --url it starts the embedded stack in a child process and runs at a scale that fits 2 cores.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { exitOnConfigError } from '@marquee/shared';
import {
  SCENARIOS,
  isScenarioName,
  scaleScenario,
  totalDurationS,
  type ScenarioOverrides,
} from '../scenarios/definitions.js';
import { writeReports, textSummary } from './report.js';
import { reportsDir } from './paths.js';
import { runScenario } from './run.js';
import { startEmbeddedStack, type StackHandle } from './stack.js';
import type { VerifyMode } from './verify.js';

/** Scale of the embedded runs on a 2-core machine shared with the load generator. */
export const EMBEDDED_SCALE: Record<'full' | 'smoke', ScenarioOverrides> = {
  // 3/s base → 60/s at 20x: several times what two cores render uncached, so the Zipf repeats,
  // coalescing and shedding all have to work. 1/3 of the k6 durations: ~2 minutes.
  full: { baseRate: 3, timeScale: 1 / 3, maxInFlight: 400 },
  // Under a minute with start-up: ~20 s of load, a few hundred requests.
  smoke: { baseRate: 2, timeScale: 0.05, maxInFlight: 200 },
};

export interface CliArgs {
  scenario: string;
  url?: string;
  smoke: boolean;
  overrides: ScenarioOverrides;
  verify?: VerifyMode;
  out: string;
  lambdaConcurrency?: number;
}

const DEFAULT_OUT = reportsDir(import.meta.url);

/** A positive number from a flag: plain decimal (`2`, `0.5`), nothing `Number()` would stretch to. */
function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0)) throw new Error(`${flag} expects a positive number like 2 or 0.5, got "${text}"`);
  return n;
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      'base-rate': { type: 'string' },
      'time-scale': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'lambda-concurrency': { type: 'string' },
      out: { type: 'string', default: DEFAULT_OUT },
      verify: { type: 'string' },
    },
  });
  const [scenario = '', ...extra] = positionals;
  if (extra.length > 0) throw new Error(`one scenario at a time, got ${positionals.join(' ')}`);
  if (!isScenarioName(scenario))
    throw new Error(`scenario must be one of ${Object.keys(SCENARIOS).join(', ')}, got "${scenario}"`);
  const { verify } = values;
  if (verify !== undefined && verify !== 'all' && verify !== 'unique' && verify !== 'none') {
    throw new Error(`--verify expects all, unique or none, got ${verify}`);
  }
  const overrides: ScenarioOverrides = {};
  const baseRate = positive('--base-rate', values['base-rate']);
  const timeScale = positive('--time-scale', values['time-scale']);
  const maxInFlight = positive('--max-in-flight', values['max-in-flight']);
  const lambdaConcurrency = positive('--lambda-concurrency', values['lambda-concurrency']);
  if (baseRate !== undefined) overrides.baseRate = baseRate;
  if (timeScale !== undefined) overrides.timeScale = timeScale;
  if (maxInFlight !== undefined) overrides.maxInFlight = Math.round(maxInFlight);
  return {
    scenario,
    smoke: values.smoke,
    overrides,
    out: values.out,
    ...(values.url !== undefined ? { url: values.url } : {}),
    ...(verify !== undefined ? { verify } : {}),
    ...(lambdaConcurrency !== undefined ? { lambdaConcurrency: Math.round(lambdaConcurrency) } : {}),
  };
}

async function main(): Promise<number> {
  const args = parseCliArgs(process.argv.slice(2));
  if (!isScenarioName(args.scenario)) return 2;
  const preset = args.url === undefined || args.smoke ? EMBEDDED_SCALE[args.smoke ? 'smoke' : 'full'] : {};
  const scenario = scaleScenario(SCENARIOS[args.scenario], { ...preset, ...args.overrides });
  const progress = (line: string) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 200) - 1)}\x1b[K`);
    else process.stderr.write(`${line}\n`);
  };

  let stack: StackHandle | undefined;
  const stop = () => void stack?.close().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    if (args.url === undefined) {
      process.stderr.write('starting the embedded stack…\n');
      stack = await startEmbeddedStack(
        args.lambdaConcurrency !== undefined ? { lambdaConcurrency: args.lambdaConcurrency } : {},
      );
      process.stderr.write(`embedded stack at ${stack.url} (pid ${stack.pid})\n`);
    }
    const baseUrl = (args.url ?? stack?.url ?? '').replace(/\/+$/, '');
    process.stderr.write(
      `${scenario.name}: base ${scenario.baseRate}/s, ${totalDurationS(scenario).toFixed(0)}s, phases ${scenario.phases.map((p) => `${p.name} ${p.durationS.toFixed(1)}s`).join(', ')}\n`,
    );
    const report = await runScenario({
      baseUrl,
      scenario,
      verify: args.verify ?? (args.smoke ? 'all' : 'unique'),
      embedded: stack !== undefined,
      ...(stack ? { lambdaStats: stack.lambdaStats } : {}),
      onProgress: progress,
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const name = `${scenario.name}${args.smoke ? '-smoke' : ''}-${report.startedAt.replace(/[:.]/g, '-')}`;
    const files = await writeReports(report, args.out, name);
    await writeReports(report, args.out, `${scenario.name}${args.smoke ? '-smoke' : ''}-latest`);
    process.stdout.write(
      `${textSummary(report)}\n\nreports: ${path.relative(process.cwd(), files.json)}, ${path.relative(process.cwd(), files.html)}\n`,
    );
    return report.checks.every((c) => c.pass) ? 0 : 1;
  } finally {
    await stack?.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      // A bad variable (the embedded stack reads MARQUEE_* from this environment): its lines, exit 1.
      exitOnConfigError(err);
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
