// The bench as an instrument that can fail: synthetic figures in, verdicts out (no stack, no wrk).
import t from 'tap';
import type { ArmResult } from '../bench/arms.js';
import { descendants, parseStat, sampleTree, type ProcStat } from '../bench/cpu.js';
import { parseBenchArgs } from '../bench/main.js';
import { DEFAULT_GOALS, benchRatios, transportGoals, type ArmGroup, type GoalConfig } from '../bench/run.js';
import {
  addGeneratorLine,
  emptyGeneratorSums,
  histogramTotals,
  parseServerTiming,
  stageBreakdown,
} from '../bench/stages.js';
import { abaRatio, decide, markdown, summarise, type Ratio } from '../bench/table.js';

/** An arm with a given wall throughput and CPU ms per image. */
function arm(id: string, rps: number, cpuPerImageMs?: number): ArmResult {
  const durationS = 10;
  const requests = Math.round(rps * durationS);
  return {
    id,
    label: id,
    work: 'synthetic',
    driver: 'test',
    concurrency: 4,
    result: {
      tool: 'in-process',
      requests,
      durationS,
      rps,
      meanMs: 50,
      p50Ms: 50,
      p90Ms: 60,
      p99Ms: 80,
      maxMs: 90,
      non2xx: 0,
      socketErrors: 0,
    },
    ...(cpuPerImageMs === undefined
      ? {}
      : {
          cpu: {
            cpuMs: cpuPerImageMs * requests,
            cpuPerImageMs,
            cores: (cpuPerImageMs * requests) / 1000 / durationS,
            processes: 1,
            source: 'synthetic',
          },
        }),
  };
}

/** raw 1, Marquee, raw 2, ipx, raw 3 for the boxshot spec. */
function uncached(o: { raw: [number, number, number]; marquee: number; ipx: number; cpu?: [number, number, number] }) {
  const cpu = o.cpu ?? [40, 40, 40];
  return [
    arm('raw-boxshot-1', o.raw[0], 40),
    arm('marquee-uncached-boxshot', o.marquee, cpu[0]),
    arm('raw-boxshot-2', o.raw[1], 40),
    arm('ipx-uncached-boxshot', o.ipx, cpu[2]),
    arm('raw-boxshot-3', o.raw[2], 40),
  ];
}

/** The goals of a bench of uncached boxshots against raw sharp and ipx alone (no billboards, hits or Zipf mix). */
const BOXSHOT: GoalConfig = { ...DEFAULT_GOALS, suite: { groups: ['uncached', 'ipx'], billboards: false } };

const find = (rs: readonly Ratio[], part: string) => {
  const r = rs.find((x) => x.name.includes(part));
  if (!r) throw new Error(`no ratio ${part} in ${rs.map((x) => x.name).join('; ')}`);
  return r;
};

t.test('uncached goals PASS when Marquee keeps up, FAIL when it does not', async (t) => {
  const good = benchRatios(uncached({ raw: [50, 50, 50], marquee: 48, ipx: 38, cpu: [42, 40, 45] }), BOXSHOT);
  t.equal(find(good, 'Marquee / raw sharp (boxshot), req/s').verdict, 'PASS', '0.96 ≥ 0.9');
  t.equal(find(good, 'Marquee / raw sharp (boxshot), CPU').verdict, 'PASS', '42/40 = 1.05 ≤ 1.1');
  t.equal(find(good, 'Marquee / ipx (boxshot), req/s').verdict, 'PASS', '48/38 = 1.26 ≥ 1.2');
  t.equal(find(good, 'Marquee / ipx (boxshot), CPU').verdict, 'INFO', 'no goal: shown, not judged');
  t.equal(summarise(good).strictExitCode, 0);

  // The independent check's picture: 0.47x raw sharp by throughput, 1.3x by CPU per image.
  const badArms = uncached({ raw: [50, 50, 50], marquee: 23.5, ipx: 40, cpu: [52, 40, 45] });
  const bad = benchRatios(badArms, BOXSHOT);
  const tput = find(bad, 'Marquee / raw sharp (boxshot), req/s');
  t.equal(tput.verdict, 'FAIL');
  t.equal(tput.value?.toFixed(2), '0.47');
  t.equal(find(bad, 'Marquee / raw sharp (boxshot), CPU').verdict, 'FAIL', '52/40 = 1.3 > 1.15');
  t.equal(find(bad, 'Marquee / ipx (boxshot), req/s').verdict, 'FAIL', '23.5/40 < 0.9');
  const s = summarise(bad);
  t.equal(s.fail, 3);
  t.equal(s.strictExitCode, 1, '--strict exits 1');
  t.match(markdown(badArms, bad, 'h'), /\| FAIL \|/);
});

t.test('A B A: the ratio is against the mean of the raw runs around it, the range against each', async (t) => {
  const noisyArms = uncached({ raw: [40, 60, 60], marquee: 45, ipx: 90 });
  const rs = benchRatios(noisyArms, BOXSHOT);
  const r = find(rs, 'Marquee / raw sharp (boxshot), req/s');
  t.equal(r.value, 45 / 50);
  t.same(r.range, [45 / 60, 45 / 40]);
  t.equal(r.spread, 20 / 50);
  t.equal(r.noisy, true, '40 vs 60: 40 % spread > 25 %');
  t.equal(r.verdict, 'NOISY', '0.75 fails, 1.125 passes: one noisy minute does not decide');
  t.equal(summarise(rs).strictExitCode, 1, 'a FAIL elsewhere (vs ipx) still wins over NOISY');
  t.match(markdown(noisyArms, rs, 'h'), /40 % noisy \| ≥ 0.9 \| NOISY \|/);

  const onlyNoisy = benchRatios(uncached({ raw: [40, 60, 60], marquee: 45, ipx: 30 }), BOXSHOT);
  t.equal(find(onlyNoisy, 'Marquee / raw sharp (boxshot), req/s').verdict, 'NOISY');
  t.equal(summarise(onlyNoisy).fail, 0);
  t.equal(summarise(onlyNoisy).strictExitCode, 2, 'undecided, not passed');
});

t.test('noisy but decided either way: the verdict stands, marked noisy', async (t) => {
  const pass = abaRatio([arm('m', 70), arm('a', 50), arm('b', 70)], 'x', 'throughput', 'm', ['a', 'b'], {
    op: '>=',
    value: 0.9,
  });
  t.equal(pass.noisy, true);
  t.equal(pass.verdict, 'PASS', '1.0 and 1.4: both ≥ 0.9');
  t.match(markdown([], [pass], 'h'), /PASS \(noisy\)/);
  const fail = abaRatio([arm('m', 20), arm('a', 50), arm('b', 70)], 'x', 'throughput', 'm', ['a', 'b'], {
    op: '>=',
    value: 0.9,
  });
  t.equal(fail.verdict, 'FAIL', '0.29 and 0.4: both < 0.9');
  const quiet = abaRatio([arm('m', 44), arm('a', 48), arm('b', 52)], 'x', 'throughput', 'm', ['a', 'b'], {
    op: '>=',
    value: 0.9,
  });
  t.equal(quiet.noisy, false, '8 % spread');
  t.equal(quiet.verdict, 'FAIL', 'quiet: the mean decides (0.88), even though 44/48 = 0.92 would pass');
});

t.test('decide: lower-is-better goals and missing values', async (t) => {
  t.equal(decide(1.05, [1.0, 1.1], false, { op: '<=', value: 1.1 }), 'PASS');
  t.equal(decide(1.15, [1.0, 1.3], false, { op: '<=', value: 1.1 }), 'FAIL');
  t.equal(decide(1.15, [1.0, 1.3], true, { op: '<=', value: 1.1 }), 'NOISY');
  t.equal(decide(undefined, undefined, false, { op: '<=', value: 1.1 }), 'SKIP', 'a goal without a figure');
  t.equal(decide(undefined, undefined, false, undefined), undefined, 'no goal, no figure: nothing to show');
  t.equal(decide(2, undefined, false, undefined), 'INFO');
});

t.test('cache hit goal against a bare Fastify route', async (t) => {
  const hitOnly: GoalConfig = { ...DEFAULT_GOALS, suite: { groups: ['hit'], billboards: false } };
  const rs = benchRatios([arm('marquee-hit', 17_000), arm('bare', 20_000)], hitOnly);
  t.equal(find(rs, 'cache hit').verdict, 'PASS', '0.85 ≥ 0.8');
  const low = benchRatios([arm('marquee-hit', 15_000), arm('bare', 20_000)], hitOnly);
  t.equal(find(low, 'cache hit').verdict, 'FAIL', '0.75 < 0.8');
  t.equal(low.length, 1, "the hit goal is this suite's only goal");
});

t.test('a goal without a figure is SKIP with its reason, and --strict exits 2', async (t) => {
  // The full bench's goals, run with --only zipf: the Zipf goal's ipx side never ran.
  const cfg: GoalConfig = { ...DEFAULT_GOALS, groups: new Set<ArmGroup>(['zipf']) };
  const rs = benchRatios([arm('marquee-zipf', 900), arm('marquee-cdn-zipf', 1000)], cfg);
  const z = find(rs, 'Zipf mix, each behind the same Varnish');
  t.equal(z.verdict, 'SKIP', 'the goal stays, undecided');
  t.equal(z.value, undefined);
  t.equal(z.met, undefined);
  t.match(z.note, /ipx-cdn-zipf did not run/);
  t.match(z.note, /--only zipf leaves out ipx/);
  const hit = find(rs, 'cache hit');
  t.equal(hit.verdict, 'SKIP');
  t.match(hit.note, /marquee-hit did not run; bare did not run \(not run: --only zipf leaves out hit\)/);
  t.equal(find(rs, 'Marquee / raw sharp (billboard), req/s').verdict, 'SKIP', 'every goal of the suite is listed');
  t.notOk(
    rs.some((r) => r.name.includes('Marquee without a CDN')),
    'a ratio without a goal and without a figure is left out',
  );
  t.equal(rs.filter((r) => r.verdict === 'SKIP').length, rs.length, 'nothing ran to decide any goal');
  const s = summarise(rs);
  t.equal(s.skip, rs.length);
  t.equal(s.strictExitCode, 2, '--strict exits 2: a goal was not decided');
  const md = markdown([], rs, 'h');
  t.match(
    md,
    /\| Zipf mix, each behind the same Varnish: Marquee \/ ipx, req\/s \| - \| - \| - \| ≥ \d+(\.\d+)? \| SKIP \| no figure: ipx-cdn-zipf did not run/,
  );
  t.match(md, new RegExp(`Goals: 0 PASS, 0 FAIL, 0 NOISY, ${rs.length} SKIP\\.`));

  // A FAIL still decides the exit code over a SKIP.
  const failed = benchRatios([arm('marquee-hit', 1000), arm('bare', 20_000)], cfg);
  t.equal(summarise(failed).strictExitCode, 1);

  // An arm that ran without the figure a goal needs: CPU per image is measured on Linux only.
  const noCpu = uncached({ raw: [50, 50, 50], marquee: 48, ipx: 38 }).map((a) =>
    a.id === 'marquee-uncached-boxshot' ? { ...a, cpu: undefined } : a,
  );
  const cpu = find(benchRatios(noCpu, BOXSHOT), 'Marquee / raw sharp (boxshot), CPU');
  t.equal(cpu.verdict, 'SKIP');
  t.equal(cpu.note, 'no figure: marquee-uncached-boxshot has no CPU per image figure');
  t.equal(summarise(benchRatios(noCpu, BOXSHOT)).strictExitCode, 2);

  // --no-billboards on a suite with billboards: their goals are SKIP, saying so.
  const noBillboards = benchRatios(uncached({ raw: [50, 50, 50], marquee: 48, ipx: 38 }), {
    ...DEFAULT_GOALS,
    suite: { groups: ['uncached', 'ipx'], billboards: true },
    billboards: false,
  });
  t.match(find(noBillboards, 'Marquee / raw sharp (billboard), req/s').note, /\(not run: --no-billboards\)$/);
});

t.test("a suite's goals are what it runs before --only narrows it", async (t) => {
  const full = parseBenchArgs(['--only', 'hit', '--no-billboards']);
  t.same([...full.groups], ['hit']);
  t.same(full.suite, { groups: ['uncached', 'hit', 'zipf', 'ipx'], billboards: true });
  // The Preprocessor's bench (preprocessor/bench/bench.ts): uncached boxshots and cache hits.
  const pre = parseBenchArgs([], { groups: new Set(['uncached', 'hit']), billboards: false, uncachedGoal: 0.85 });
  t.same(pre.suite, { groups: ['uncached', 'hit'], billboards: false });
  const arms = [
    ...uncached({ raw: [50, 50, 50], marquee: 48, ipx: 38, cpu: [42, 40, 45] }).filter((a) => !a.id.startsWith('ipx')),
    arm('marquee-hit', 17_000),
    arm('bare', 20_000),
  ];
  const rs = benchRatios(arms, pre);
  t.same(
    rs.map((r) => `${r.name}: ${r.verdict}`),
    [
      'uncached Marquee / raw sharp (boxshot), req/s: PASS',
      'uncached Marquee / raw sharp (boxshot), CPU per image: PASS',
      'cache hit / bare Fastify, req/s: PASS',
    ],
    'no ipx, billboard or Zipf goal: not goals of this bench',
  );
  t.equal(summarise(rs).strictExitCode, 0);
});

t.test('Zipf mix: Marquee against ipx behind the same Varnish, a goal that can fail', async (t) => {
  const goal = DEFAULT_GOALS.zipfGoal;
  const at = (marquee: number, ipx: number) =>
    find(
      benchRatios(
        [arm('marquee-cdn-zipf', marquee), arm('ipx-cdn-zipf', ipx), arm('marquee-zipf', 5000)],
        DEFAULT_GOALS,
      ),
      'Zipf mix, each behind the same Varnish',
    );
  const pass = at(1000 * goal, 1000);
  t.equal(pass.verdict, 'PASS', `${goal}x ipx meets ≥ ${goal}`);
  t.same(pass.denominator, ['ipx-cdn-zipf']);
  const fail = at(990 * goal, 1000);
  t.equal(fail.verdict, 'FAIL', `${(0.99 * goal).toFixed(3)}x ipx misses ≥ ${goal}`);
  t.equal(fail.met, false);
  t.equal(summarise([fail]).strictExitCode, 1);
  // Both caches serving the repeats: about 1, a pass. A Marquee whose replies Varnish cannot keep
  // (every request a render, ipx's repeats served from the cache) is far below: a FAIL.
  t.equal(at(1000, 1000).verdict, 'PASS');
  t.equal(at(40, 15_000).verdict, 'FAIL');

  const rs = benchRatios(
    [arm('marquee-cdn-zipf', 1000), arm('ipx-cdn-zipf', 900), arm('marquee-zipf', 5000)],
    DEFAULT_GOALS,
  );
  const own = find(rs, 'Marquee without a CDN / ipx behind Varnish');
  t.equal(own.verdict, 'INFO', "Marquee's own output cache against Varnish: shown, not judged");
  t.match(own.note, /not a goal/);
  t.notOk(
    rs.some((r) => r.denominator.includes('ipx-zipf')),
    'ipx with no cache at all is no longer a denominator: any working cache beats it',
  );
});

t.test('CPU of a process tree from /proc stat lines', async (t) => {
  const s = parseStat('123 (node (stack) x) S 1 123 123 0 -1 4194304 1 0 0 0 250 50 30 20 20 0 12 0');
  t.same(s, { pid: 123, ppid: 1, comm: 'node (stack) x', selfTicks: 300, reapedChildTicks: 50 });
  const stats: ProcStat[] = [
    { pid: 10, ppid: 1, comm: 'stack', selfTicks: 100, reapedChildTicks: 40 },
    { pid: 11, ppid: 10, comm: 'env', selfTicks: 200, reapedChildTicks: 0 },
    { pid: 12, ppid: 11, comm: 'grandchild', selfTicks: 5, reapedChildTicks: 0 },
    { pid: 20, ppid: 1, comm: 'other', selfTicks: 999, reapedChildTicks: 0 },
  ];
  t.same(
    descendants(stats, 10).map((x) => x.pid),
    [10, 11, 12],
  );
  t.equal(sampleTree(10, stats).ticks, 345);
  // Environment 11 exits (and is reaped by 10): its ticks move to 10's cutime, the sum goes on.
  const after: ProcStat[] = [
    { pid: 10, ppid: 1, comm: 'stack', selfTicks: 110, reapedChildTicks: 40 + 260 },
    { pid: 20, ppid: 1, comm: 'other', selfTicks: 1500, reapedChildTicks: 0 },
  ];
  // Its child 12 is orphaned (reparented outside the tree): its 5 ticks drop out, a known gap.
  t.equal(sampleTree(10, after).ticks - sampleTree(10, stats).ticks, 10 + 60 - 5, 'exited children still count');
  t.equal(sampleTree(process.pid).pids[0], process.pid, 'reads this very process from /proc');
});

t.test('stages: Server-Timing when sent, derived figures otherwise, missing ones named', async (t) => {
  t.same(
    [
      ...parseServerTiming(
        'queue;dur=1.5, invoke;desc="lambda";dur=8, fetch;dur=2.0, cache;desc=miss, Render;dur=30.5',
      ),
    ],
    [
      ['queue', 1.5],
      ['invoke', 8],
      ['fetch', 2],
      ['render', 30.5],
    ],
  );
  const text = [
    'marquee_http_request_duration_seconds_sum{route="/v1/artwork/:type/:titleId/:file"} 5',
    'marquee_http_request_duration_seconds_count{route="/v1/artwork/:type/:titleId/:file"} 100',
    'marquee_http_request_duration_seconds_sum{route="/metrics"} 9',
    'marquee_http_request_duration_seconds_count{route="/metrics"} 3',
    'marquee_generator_duration_seconds_sum 4',
    'marquee_generator_duration_seconds_count 100',
  ].join('\n');
  t.same(
    histogramTotals(text, 'marquee_http_request_duration_seconds', (l) => l.includes('/metrics')),
    { sum: 5, count: 100 },
  );
  const gen = emptyGeneratorSums();
  addGeneratorLine(gen, '{"level":30,"msg":"generated","ms":36,"timings":{"fetchMs":3,"renderMs":30}}');
  addGeneratorLine(gen, '{"level":30,"msg":"generated","ms":34,"putMs":7.5,"timings":{"fetchMs":1,"renderMs":30}}');
  addGeneratorLine(gen, 'not json "generated"');
  t.equal(gen.count, 2);
  t.same({ puts: gen.puts, putMs: gen.putMs }, { puts: 1, putMs: 7.5 }, 'the one kept render and its PUT');
  const derived = stageBreakdown({
    requests: 100,
    clientMeanMs: 60,
    metrics: { httpSumS: 5, httpCount: 100, generatorSumS: 4, generatorCount: 100 },
    generator: gen,
    serverTiming: {},
  });
  const ms = (b: typeof derived, stage: string) => b.rows.find((r) => r.stage === stage)?.ms;
  t.equal(ms(derived, 'invoke transport'), 40 - 35, 'Generator call − handler ms');
  t.equal(ms(derived, 'source fetch'), 2);
  t.equal(ms(derived, 'decode+resize+encode'), 30);
  t.equal(ms(derived, 'Preprocessor outside the Generator call'), 10);
  t.equal(ms(derived, 'outside the Preprocessor'), 10);
  t.equal(ms(derived, 'store PUT, after the reply (billed, not in latency)'), 7.5, 'the mean over kept renders');
  t.same(derived.missing, ['queue wait', 'decode+resize', 'encode', 'reply']);

  const withHeader = stageBreakdown({
    requests: 100,
    clientMeanMs: 60,
    generator: emptyGeneratorSums(),
    serverTiming: {
      queue: { sumMs: 100, count: 100 },
      invoke: { sumMs: 4000, count: 100 },
      fetch: { sumMs: 200, count: 100 },
      decode: { sumMs: 2000, count: 100 },
      encode: { sumMs: 1000, count: 100 },
      b64: { sumMs: 50, count: 100 },
      reply: { sumMs: 30, count: 100 },
      total: { sumMs: 4500, count: 100 },
    },
  });
  t.same(withHeader.missing, [], 'every stage measured');
  t.equal(ms(withHeader, 'invoke transport'), 40 - 2 - 30);
  t.equal(ms(withHeader, 'queue wait'), 1);
  t.match(markdown([], [], 'h', [{ name: 'boxshot', stages: derived }]), /Stages not measured: queue wait/);
});

t.test('the invoke transport goal: at most 3 ms per image, FAIL past it, SKIP without a figure', async (t) => {
  const column = (ms: number | undefined) => ({
    name: 'boxshot',
    stages: {
      rows: [{ stage: 'invoke transport', ms, source: 'test' }],
      missing: ms === undefined ? ['invoke transport'] : [],
      samples: { wrk: 1, metrics: 1, generatorLog: 1, serverTiming: 1 },
    },
  });
  const [pass] = transportGoals([column(2.4)], DEFAULT_GOALS);
  const [fail] = transportGoals([column(3.5)], DEFAULT_GOALS);
  const [skip] = transportGoals([column(undefined)], DEFAULT_GOALS);
  t.equal(pass?.verdict, 'PASS');
  t.equal(fail?.verdict, 'FAIL', 'a transport of 3.5 ms fails the 3 ms goal');
  t.equal(skip?.verdict, 'SKIP');
  t.equal(summarise([pass, fail].filter((r): r is Ratio => r !== undefined)).strictExitCode, 1);
  // The 11 ms the buffered, base64 boundary measured fails it.
  t.equal(transportGoals([column(11)], DEFAULT_GOALS)[0]?.verdict, 'FAIL');
});
