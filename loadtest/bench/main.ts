// npm run bench [-- --duration 10 --warmup 2 --concurrency 4 --only uncached,hit,zipf,ipx --no-billboards
//                  --noise 0.25 --strict]
// Every contender side by side in one run: wall req/s and CPU ms per image (every process of each
// contender), raw sharp before and after each contender (A B A), a per-stage breakdown of the
// uncached Marquee arms, and PASS / FAIL / NOISY / SKIP per goal. Prints the tables, saves JSON and
// Markdown in loadtest/reports/. With --strict it exits 1 when a goal fails, 2 when none fails
// but one could not be decided (noisy raw sharp runs, or no figure: SKIP, e.g. its arm left out
// by --only), else 0; without it, 0 whatever the verdicts.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { exitOnConfigError } from '@marquee/shared';
import { reportsDir } from '../runner/paths.js';
import { DEFAULT_GOALS, runBench, type ArmGroup, type BenchConfig, type BenchReport } from './run.js';
import { markdown } from './table.js';

const REPORTS = reportsDir(import.meta.url);
const GROUPS: readonly ArmGroup[] = ['uncached', 'hit', 'zipf', 'ipx'];

export function parseBenchArgs(argv: readonly string[], defaults: Partial<BenchConfig> = {}): BenchConfig {
  const cfg: BenchConfig = {
    durationS: 10,
    warmupS: 2,
    uncachedConcurrency: 4,
    // No more than the stack's Lambda concurrency (4): past it the local Lambda throttles and the Preprocessor backs off.
    zipfConnections: 4,
    hitConnections: 50,
    zipfDraws: 20_000,
    groups: new Set(GROUPS),
    billboards: true,
    ...DEFAULT_GOALS,
    strict: false,
    log: (line) => process.stderr.write(`${line}\n`),
    suite: { groups: GROUPS, billboards: true },
    ...defaults,
  };
  // The bench's own goals are what it runs before --only and --no-billboards narrow it.
  if (defaults.suite === undefined) cfg.suite = { groups: [...cfg.groups], billboards: cfg.billboards };
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      'zipf-connections': { type: 'string' },
      'hit-connections': { type: 'string' },
      'no-billboards': { type: 'boolean', default: false },
      only: { type: 'string' },
      noise: { type: 'string' },
      strict: { type: 'boolean', default: false },
    },
  });
  /** A number from a flag: plain decimal (`10`, `2.5`), nothing `Number()` would stretch to. */
  const num = (flag: string, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    if (!/^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/.test(v))
      throw new Error(`--${flag} expects a number like 10 or 2.5, got "${v}"`);
    return Number(v);
  };
  cfg.durationS = num('duration', values.duration, cfg.durationS);
  cfg.warmupS = num('warmup', values.warmup, cfg.warmupS);
  cfg.uncachedConcurrency = num('concurrency', values.concurrency, cfg.uncachedConcurrency);
  cfg.zipfConnections = num('zipf-connections', values['zipf-connections'], cfg.zipfConnections);
  cfg.hitConnections = num('hit-connections', values['hit-connections'], cfg.hitConnections);
  cfg.noiseLimit = num('noise', values.noise, cfg.noiseLimit);
  if (values['no-billboards']) cfg.billboards = false;
  if (values.strict) cfg.strict = true;
  if (values.only !== undefined) {
    const list = values.only.split(',').filter(Boolean);
    for (const g of list)
      if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only takes ${GROUPS.join(',')}, got ${g}`);
    cfg.groups = new Set(list as ArmGroup[]);
  }
  return cfg;
}

/** Runs the bench, prints the table, writes `<name>.json` and `<name>.md` (and `-latest` copies). */
export async function benchMain(
  argv: readonly string[],
  name: string,
  defaults: Partial<BenchConfig> = {},
): Promise<BenchReport> {
  const cfg = parseBenchArgs(argv, defaults);
  const report = await runBench(cfg);
  const header = `Marquee bench, ${report.startedAt}, ${cpus().length} cores, Node ${process.version}; ${cfg.durationS}s per arm after ${cfg.warmupS}s warm-up`;
  const md = `${markdown(report.arms, report.ratios, header, report.stages)}\n\n${report.notes.map((n) => `- ${n}`).join('\n')}\n`;
  await mkdir(REPORTS, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  for (const base of [`${name}-${stamp}`, `${name}-latest`]) {
    await writeFile(path.join(REPORTS, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(REPORTS, `${base}.md`), md);
  }
  process.stdout.write(
    `\n${md}\nsaved: ${path.relative(process.cwd(), path.join(REPORTS, `${name}-${stamp}.json`))} and .md\n`,
  );
  const { fail, noisy, skip, strictExitCode } = report.summary;
  if (cfg.strict) {
    process.stdout.write(
      strictExitCode === 0
        ? '--strict: every goal PASS\n'
        : `--strict: ${fail} goal(s) FAIL, ${noisy} NOISY (undecided), ${skip} SKIP (no figure): exit ${strictExitCode}\n`,
    );
    if (strictExitCode !== 0) process.exitCode = strictExitCode;
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  benchMain(process.argv.slice(2), 'bench').then(
    () => process.exit(), // process.exitCode: non-zero only with --strict and a goal not met

    (err: unknown) => {
      // A bad variable (the embedded stack reads MARQUEE_* from this environment): its lines, exit 1.
      exitOnConfigError(err);
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
