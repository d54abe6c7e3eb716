// node loadtest/dist/runner/cli.js <baseline|spike20x|soak> [--url URL] [--smoke] [--base-rate N]
//   [--time-scale F] [--max-in-flight N] [--verify all|unique|none] [--out DIR] [--lambda-concurrency N]
// Without --url it starts the embedded stack in a child process and runs at a scale that fits 2 cores.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitOnConfigError } from '@marquee/shared';
import { SCENARIOS, isScenarioName, scaleScenario, totalDurationS, type ScenarioOverrides } from '../scenarios/definitions.js';
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

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { scenario: '', smoke: false, overrides: {}, out: DEFAULT_OUT };
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} expects a positive number, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = () => argv[++i];
    switch (a) {
      case '--url': args.url = next(); break;
      case '--smoke': args.smoke = true; break;
      case '--base-rate': args.overrides.baseRate = num(a, next()); break;
      case '--time-scale': args.overrides.timeScale = num(a, next()); break;
      case '--max-in-flight': args.overrides.maxInFlight = Math.round(num(a, next())); break;
      case '--lambda-concurrency': args.lambdaConcurrency = Math.round(num(a, next())); break;
      case '--out': args.out = next() ?? DEFAULT_OUT; break;
      case '--verify': {
        const v = next();
        if (v !== 'all' && v !== 'unique' && v !== 'none') throw new Error(`--verify expects all, unique or none, got ${v}`);
        args.verify = v;
        break;
      }
      default:
        if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
        args.scenario = a;
    }
  }
  if (!isScenarioName(args.scenario)) throw new Error(`scenario must be one of ${Object.keys(SCENARIOS).join(', ')}, got "${args.scenario}"`);
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
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
      stack = await startEmbeddedStack(args.lambdaConcurrency !== undefined ? { lambdaConcurrency: args.lambdaConcurrency } : {});
      process.stderr.write(`embedded stack at ${stack.url} (pid ${stack.pid})\n`);
    }
    const baseUrl = (args.url ?? stack?.url ?? '').replace(/\/+$/, '');
    process.stderr.write(`${scenario.name}: base ${scenario.baseRate}/s, ${totalDurationS(scenario).toFixed(0)}s, phases ${scenario.phases.map((p) => `${p.name} ${p.durationS.toFixed(1)}s`).join(', ')}\n`);
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
    process.stdout.write(`${textSummary(report)}\n\nreports: ${path.relative(process.cwd(), files.json)}, ${path.relative(process.cwd(), files.html)}\n`);
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
