// node loadtest/dist/runner/cli.js <baseline|spike20x|soak> [--url URL [--origin-url URL]] [--cdn] [--smoke]
//   [--base-rate N] [--time-scale F] [--max-in-flight N] [--verify all|unique|none] [--out DIR]
//   [--lambda-concurrency N] [--slo [phase.]key=value …] [--baseline REPORT.json [--regress-tolerance [key=]F …]]
// Without --url it starts the embedded stack in a child process and runs at a scale that fits 2 cores.
// Exit code: 0 every check passed, 1 a check failed, 2 the command itself was wrong or could not run.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { exitOnConfigError } from '@marquee/shared';
import {
  SCENARIOS,
  isScenarioName,
  scaleScenario,
  totalDurationS,
  type ScenarioDef,
  type ScenarioOverrides,
} from '../scenarios/definitions.js';
import { applySlo, parseSlos, type SloOverride } from '../scenarios/limits.js';
import { parseTolerances, readBaseline, type Tolerances } from './compare.js';
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
  scenario: ScenarioDef;
  url?: string;
  originUrl?: string;
  cdn: boolean;
  smoke: boolean;
  slo: SloOverride[];
  verify?: VerifyMode;
  out: string;
  lambdaConcurrency?: number;
  baseline?: string;
  tolerances: Tolerances;
}

/** A command line that cannot be run as given: printed with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const DEFAULT_OUT = reportsDir(import.meta.url);

/** A positive number from a flag: plain decimal (`2`, `0.5`), nothing `Number()` would stretch to. */
function positive(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0)) throw new UsageError(`${flag} expects a positive number like 2 or 0.5, got "${text}"`);
  return n;
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message, { cause: err });
  }
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = usage(() =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        'origin-url': { type: 'string' },
        cdn: { type: 'boolean', default: false },
        smoke: { type: 'boolean', default: false },
        'base-rate': { type: 'string' },
        'time-scale': { type: 'string' },
        'max-in-flight': { type: 'string' },
        'lambda-concurrency': { type: 'string' },
        out: { type: 'string', default: DEFAULT_OUT },
        verify: { type: 'string' },
        slo: { type: 'string', multiple: true, default: [] },
        baseline: { type: 'string' },
        'regress-tolerance': { type: 'string', multiple: true, default: [] },
      },
    }),
  );
  const [name = '', ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`one scenario at a time, got ${positionals.join(' ')}`);
  if (!isScenarioName(name))
    throw new UsageError(`scenario must be one of ${Object.keys(SCENARIOS).join(', ')}, got "${name}"`);
  const { verify } = values;
  if (verify !== undefined && verify !== 'all' && verify !== 'unique' && verify !== 'none') {
    throw new UsageError(`--verify expects all, unique or none, got ${verify}`);
  }
  if (values['origin-url'] !== undefined && values.url === undefined)
    throw new UsageError('--origin-url goes with --url (the embedded stack knows its own origin)');
  if (values.cdn && values.url !== undefined && values['origin-url'] === undefined)
    throw new UsageError('--cdn with --url needs --origin-url: the origin /metrics counts what the CDN let through');
  if (values['regress-tolerance'].length > 0 && values.baseline === undefined)
    throw new UsageError('--regress-tolerance needs --baseline REPORT.json to compare with');
  const overrides: ScenarioOverrides = {};
  const baseRate = positive('--base-rate', values['base-rate']);
  const timeScale = positive('--time-scale', values['time-scale']);
  const maxInFlight = positive('--max-in-flight', values['max-in-flight']);
  const lambdaConcurrency = positive('--lambda-concurrency', values['lambda-concurrency']);
  if (baseRate !== undefined) overrides.baseRate = baseRate;
  if (timeScale !== undefined) overrides.timeScale = timeScale;
  if (maxInFlight !== undefined) overrides.maxInFlight = Math.round(maxInFlight);
  const embedded = values.url === undefined;
  const preset = embedded || values.smoke ? EMBEDDED_SCALE[values.smoke ? 'smoke' : 'full'] : {};
  const scaled = scaleScenario(SCENARIOS[name], { ...preset, ...overrides });
  const slo = usage(() => parseSlos(values.slo, scaled.phases));
  const tolerances = usage(() => parseTolerances(values['regress-tolerance']));
  return {
    scenario: applySlo(scaled, slo),
    slo,
    cdn: values.cdn,
    smoke: values.smoke,
    out: values.out,
    tolerances,
    ...(values.url !== undefined ? { url: values.url } : {}),
    ...(values['origin-url'] !== undefined ? { originUrl: values['origin-url'] } : {}),
    ...(verify !== undefined ? { verify } : {}),
    ...(lambdaConcurrency !== undefined ? { lambdaConcurrency: Math.round(lambdaConcurrency) } : {}),
    ...(values.baseline !== undefined ? { baseline: values.baseline } : {}),
  };
}

async function main(): Promise<number> {
  const args = parseCliArgs(process.argv.slice(2));
  const { scenario } = args;
  const baseline =
    args.baseline !== undefined
      ? {
          file: args.baseline,
          report: await readBaseline(args.baseline).catch((err: Error) => {
            throw new UsageError(err.message, { cause: err });
          }),
          tolerances: args.tolerances,
        }
      : undefined;
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
      process.stderr.write(`starting the embedded stack${args.cdn ? ' with its CDN tier' : ''}…\n`);
      stack = await startEmbeddedStack({
        ...(args.lambdaConcurrency !== undefined ? { lambdaConcurrency: args.lambdaConcurrency } : {}),
        ...(args.cdn ? { cdn: true } : {}),
      });
      process.stderr.write(
        `embedded stack at ${stack.url}${stack.cdnUrl ? `, CDN at ${stack.cdnUrl}` : ''} (pid ${stack.pid})\n`,
      );
    }
    const origin = (args.originUrl ?? stack?.url ?? args.url ?? '').replace(/\/+$/, '');
    const baseUrl = (args.url ?? (args.cdn ? stack?.cdnUrl : stack?.url) ?? '').replace(/\/+$/, '');
    process.stderr.write(
      `${scenario.name}: base ${scenario.baseRate}/s, ${totalDurationS(scenario).toFixed(0)}s, phases ${scenario.phases.map((p) => `${p.name} ${p.durationS.toFixed(1)}s`).join(', ')}\n`,
    );
    const report = await runScenario({
      baseUrl,
      originUrl: origin,
      throughCdn: args.cdn,
      scenario,
      sloOverrides: args.slo,
      verify: args.verify ?? (args.smoke ? 'all' : 'unique'),
      embedded: stack !== undefined,
      ...(stack
        ? {
            lambdaStats: stack.lambdaStats,
            cdnStats: stack.cdnStats,
            stackPid: stack.pid,
            store: stack.store,
            onStdoutLine: stack.onStdoutLine,
          }
        : {}),
      ...(baseline ? { baseline } : {}),
      onProgress: progress,
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const label = `${scenario.name}${args.cdn ? '-cdn' : ''}${args.smoke ? '-smoke' : ''}`;
    const files = await writeReports(report, args.out, `${label}-${report.startedAt.replace(/[:.]/g, '-')}`);
    await writeReports(report, args.out, `${label}-latest`);
    process.stdout.write(
      `${textSummary(report)}\n\nreports: ${path.relative(process.cwd(), files.json)}, ${path.relative(process.cwd(), files.html)}\n`,
    );
    return report.verdict === 'pass' ? 0 : 1;
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
      process.stderr.write(`${err instanceof UsageError ? 'usage: ' : ''}${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
