// The capacity model against examples worked by hand (the arithmetic is in the comments), the
// figures it reads from reports, and its command line.
import t from 'tap';
import { buildInputs } from '../capacity/inputs.js';
import { measuredFrom, mergeMeasured } from '../capacity/measured.js';
import { capacity, type CapacityInputs } from '../capacity/model.js';
import { render } from '../capacity/render.js';
import { parseCapacityArgs } from '../capacity/cli.js';

const s = (value: number) => ({ value, source: 'test' });

/** Round numbers so the hand arithmetic stays readable. */
const inputs: CapacityInputs = {
  rate: s(100),
  spike: s(20),
  hitRatio: s(0.9),
  originHitRatio: s(0.5),
  generatorMs: s(200),
  generatorCpuMs: s(150),
  preprocessorCpuMs: s(10),
  keptPerRender: s(0),
  putMs: s(50),
  coldStartMs: s(500),
  lambdaMemoryMb: s(1024),
  mbPerVcpu: s(2048),
  accountConcurrency: s(1000),
  initialBurst: s(10),
  perTenSeconds: s(10),
  taskVcpu: s(1),
  taskMemoryGb: s(2),
  utilisation: s(0.5),
  minTasks: s(2),
  spikeHoursPerMonth: s(10),
  lambdaUsdPerGbSecond: s(0.00001),
  lambdaUsdPerRequest: s(0.0000002),
  fargateUsdPerVcpuHour: s(0.04),
  fargateUsdPerGbHour: s(0.005),
};

const close = (t: { ok: (ok: boolean, message: string) => unknown }, got: number, want: number, what: string) =>
  t.ok(Math.abs(got - want) < 1e-9 * Math.max(1, Math.abs(want)), `${what}: ${got} ≈ ${want}`);

t.test('base and spike, worked by hand', async (t) => {
  const r = capacity(inputs);
  // 1024 MB buys half of a 2048-MB vCPU: a 200 ms render bills 400 ms.
  close(t, r.lambdaSecondsPerInvocation, 0.4, 'billed seconds');
  // 0.4 s × 1 GB × $0.00001 + $0.0000002
  close(t, r.lambdaUsdPerInvocation, 0.0000042, 'USD per invocation');
  close(t, r.taskUsdPerHour, 0.05, 'task-hour: 1 × 0.04 + 2 × 0.005');
  // Base: 100/s × 10 % misses = 10 origin/s; half answered without a render = 5 invocations/s.
  close(t, r.base.originRps, 10, 'base origin/s');
  close(t, r.base.invocationsPerS, 5, 'base invocations/s');
  close(t, r.base.concurrency, 2, "Little's law: 5/s × 0.4 s");
  t.equal(r.base.environments, 2);
  // Preprocessor: 10/s × 10 ms = 0.1 vCPU; at 50 % of 1 vCPU that is 1 task, the minimum is 2.
  close(t, r.base.preprocessorVcpu, 0.1, 'base Preprocessor vCPU');
  t.equal(r.base.preprocessorTasks, 2, 'the minimum');
  // Lambda 5 × 3600 × 0.0000042 = 0.0756; tasks 2 × 0.05 = 0.1; per million: 0.1756 / 360,000 images × 1e6.
  close(t, r.base.lambdaUsdPerHour, 0.0756, 'base Lambda USD/h');
  close(t, r.base.usdPerHour, 0.1756, 'base USD/h');
  close(t, r.base.usdPerMillionImages, 0.1756 / 0.36, 'base USD per million images');
  // Spike ×20: 200 origin/s, 100 invocations/s, 40 environments, 2 vCPU → 4 tasks.
  close(t, r.spike.invocationsPerS, 100, 'spike invocations/s');
  close(t, r.spike.concurrency, 40, 'spike concurrency');
  t.equal(r.spike.environments, 40);
  t.equal(r.spike.preprocessorTasks, 4);
  // Lambda 100 × 3600 × 0.0000042 = 1.512; tasks 4 × 0.05 = 0.2.
  close(t, r.spike.usdPerHour, 1.712, 'spike USD/h');
  close(t, r.spike.usdPerMillionImages, 1.712 / 7.2, 'spike USD per million images');
});

t.test("Lambda's scaling limits, worked by hand", async (t) => {
  const r = capacity(inputs);
  // 38 new environments: 10 at once, then 10 per 10 s → 28 more take 3 steps = 30 s.
  t.equal(r.scaling.newEnvironments, 38);
  t.equal(r.scaling.secondsToScale, 30);
  // Shortfall per 10-s step: 40 − 12 = 28, 40 − 22 = 18, 40 − 32 = 8 environments,
  // each running 1 / 0.4 s = 2.5 invocations/s: (28 + 18 + 8) × 2.5 × 10 = 1350 throttled.
  t.equal(r.scaling.throttledWhileScaling, 1350);
  t.equal(r.scaling.overAccountLimit, false);
  // 38 cold starts × 0.5 s × 1 GB × $0.00001
  close(t, r.scaling.coldStartUsd, 0.00019, 'cold starts per spike');

  const capped = capacity({ ...inputs, accountConcurrency: s(30) });
  // The account allows 30 of the 40: a quarter of the spike's renders cannot run.
  t.equal(capped.scaling.overAccountLimit, true);
  close(t, capped.scaling.shedAtLimit, 0.25, 'shed at the account limit');
  t.equal(capped.scaling.newEnvironments, 28);
  t.equal(capped.scaling.secondsToScale, 20);
  t.equal(capped.scaling.throttledWhileScaling, 650, '(18 + 8) × 2.5 × 10');

  const burst = capacity({ ...inputs, initialBurst: s(1000), perTenSeconds: s(1000) });
  t.equal(burst.scaling.secondsToScale, 0, 'within the initial burst: no wait');
  t.equal(burst.scaling.throttledWhileScaling, 0);
});

t.test('the prescaled fleet and the month, worked by hand', async (t) => {
  const r = capacity(inputs);
  // Spike: 100 renders/s × 150 ms CPU = 15 vCPU, + 200 origin/s × 10 ms = 2 → 17 vCPU at 50 % → 34 tasks.
  close(t, r.fleet.vcpu, 17, 'fleet vCPU');
  t.equal(r.fleet.tasks, 34);
  close(t, r.fleet.usdPerHour, 1.7, 'fleet USD/h');
  close(t, r.fleet.usdPerMillionImagesAtBase, 1.7 / 0.36, 'fleet USD per million at the base rate');
  // Serverless: 720 h × 0.1756 + 10 h × 1.712 + 10 spikes × 0.00019; fleet: 730 h × 1.7.
  close(t, r.monthly.serverlessUsd, 720 * 0.1756 + 10 * 1.712 + 10 * 0.00019, 'serverless month');
  close(t, r.monthly.fleetUsd, 1241, 'fleet month');
});

t.test('a kept render is one invocation billed for its PUT too, worked by hand', async (t) => {
  const r = capacity({ ...inputs, keptPerRender: s(1), putMs: s(100) });
  // Each PUT: 0.1 s × 1 GB × $0.00001, and no request of its own.
  close(t, r.lambdaUsdPerPut, 0.000001, 'USD a PUT adds');
  // Base: 5 renders/s × 0.4 s + 5 kept/s × 0.1 s = 2.5 → 3 environments.
  close(t, r.base.concurrency, 2.5, 'base concurrency with the PUTs');
  t.equal(r.base.environments, 3);
  close(t, r.base.keptPerS, 5, 'every render kept');
  // 0.0756 + 5 × 3600 × 0.000001 = 0.0936 USD/h of Lambda.
  close(t, r.base.lambdaUsdPerHour, 0.0936, 'base Lambda USD/h with the PUTs');
  // Spike: 100 × 0.4 + 100 × 0.1 = 50 environments; 47 new, 37 past the burst: 4 steps of 10 s.
  close(t, r.spike.concurrency, 50, 'spike concurrency');
  t.equal(r.scaling.secondsToScale, 40);
  // One invocation renders and keeps, 0.5 s (50 / 100 per s): shortfalls 37, 27, 17, 7 × 2/s × 10 s = 1760.
  t.equal(r.scaling.throttledWhileScaling, 1760);
});

t.test('a memory that buys a whole vCPU does not speed up a one-core render', async (t) => {
  const r = capacity({ ...inputs, lambdaMemoryMb: s(4096) });
  close(t, r.lambdaSecondsPerInvocation, 0.2, 'the measured 200 ms');
});

t.test('measured figures: a bench report and a load report', async (t) => {
  const bench = {
    startedAt: '2026-11-26T04:23:36.097Z',
    arms: [
      { id: 'raw-boxshot-1', cpu: { cpuPerImageMs: 30 } },
      { id: 'raw-boxshot-2', cpu: { cpuPerImageMs: 32 } },
      { id: 'marquee-uncached-boxshot', work: 'boxshot → 342x513 WebP', cpu: { cpuPerImageMs: 38 } },
      { id: 'raw-billboard-1', cpu: { cpuPerImageMs: 22 } },
      { id: 'marquee-uncached-billboard', work: 'billboard → 480x270 WebP', cpu: { cpuPerImageMs: 27 } },
      { id: 'marquee-hit', cpu: { cpuPerImageMs: 0.05 } },
    ],
    stages: [
      { name: 'boxshot', stages: { rows: [{ stage: 'source fetch', ms: 2 }] } },
      { name: 'billboard', stages: { rows: [{ stage: 'source fetch', ms: 1 }] } },
    ],
  };
  const m = measuredFrom(bench, 'bench.json');
  t.equal(m.kind, 'bench');
  // boxshot: CPU 31 + fetch 2 = 33; billboard: 22 + 1 = 23; mean 28.
  t.equal(m.generatorMs?.value, 28);
  t.equal(m.generatorCpuMs?.value, 26.5);
  t.equal(m.preprocessorHitCpuMs?.value, 0.05);
  // Miss overhead: (38 − 31) and (27 − 22): mean 6.
  t.equal(m.preprocessorMissCpuMs?.value, 6);
  const i = buildInputs({ rate: 10, hitRatio: 0.9, originHitRatio: 0.75 }, m);
  // 0.75 × 0.05 + 0.25 × 6
  t.equal(i.preprocessorCpuMs.value, 1.538);
  t.match(i.preprocessorCpuMs.source, /hit CPU.*miss CPU/);
  t.equal(i.generatorMs.source, m.generatorMs?.source, 'the source travels with the figure');
  t.equal(i.hitRatio.source, 'stated: --hit-ratio');

  const load = {
    startedAt: '2026-11-27T00:00:00.000Z',
    scenario: { name: 'spike20x' },
    target: { cdn: true },
    phases: [
      { name: 'warm-up', warmup: true, sent: 30, stages: { render: { count: 20, mean: 900 }, fetch: { mean: 50 } } },
      { name: 'base', sent: 100, stages: { render: { count: 10, mean: 60 }, fetch: { mean: 2 } } },
      { name: 'spike', sent: 1900, stages: { render: { count: 90, mean: 120 }, fetch: { mean: 4 } } },
    ],
    resources: [
      { name: 'warm-up', originRequests: 30, generatorInvocations: 20, cpu: { stackTreeMs: 9000, stackMainMs: 900 } },
      {
        name: 'base',
        originRequests: 20,
        generatorInvocations: 10,
        storeWrites: 10,
        cpu: { stackTreeMs: 500, stackMainMs: 100 },
      },
      {
        name: 'spike',
        originRequests: 180,
        generatorInvocations: 90,
        storeWrites: 80,
        cpu: { stackTreeMs: 4500, stackMainMs: 900 },
      },
    ],
  };
  const l = measuredFrom(load, 'spike.json');
  t.equal(l.generatorMs?.value, 62, 'the base phase rendered 10: fetch 2 + render 60, the warm-up left out');
  t.equal(l.generatorCpuMs?.value, 40, '(400 + 3600) ms of Generator CPU / 100 invocations');
  t.equal(l.preprocessorCpuMs?.value, 5, '(100 + 900) ms / 200 origin requests');
  t.equal(l.originHitRatio?.value, 0.5, '1 − 100 / 200');
  t.equal(l.hitRatio?.value, 0.9, 'through the CDN: 1 − 200 / 2000');
  t.equal(l.keptPerRender?.value, 0.9, '90 kept of 100 renders');
  t.throws(() => measuredFrom({ hello: 1 }, 'x.json'), /neither a bench report/);

  // A bench for the render times, a load report for what only a load run measures.
  const both = mergeMeasured([m, l]);
  t.equal(both?.generatorMs?.value, 28, "the bench's uncontended render time");
  t.equal(both?.originHitRatio?.value, 0.5, "the load report's origin hit ratio");
  t.equal(both?.keptPerRender?.value, 0.9);
  t.equal(both?.preprocessorCpuMs?.value, 5, 'measured for the mix in the load report');
});

t.test('the command line: strict numbers, what is needed', async (t) => {
  const a = parseCapacityArgs(['--rate', '1000', '--spike', '20', '--hit-ratio', '0.95', '--markdown']);
  t.equal(a.stated.rate, 1000);
  t.equal(a.stated.hitRatio, 0.95);
  t.equal(a.format, 'markdown');
  t.throws(() => parseCapacityArgs(['--spike', '20']), /--rate is needed/);
  t.throws(() => parseCapacityArgs(['--rate', '1e3']), /positive number/);
  t.throws(() => parseCapacityArgs(['--rate', '10', '--hit-ratio', '95']), /fraction/);
  t.throws(() => parseCapacityArgs(['--rate', '10', '--min-tasks', '1.5']), /whole number/);
  t.throws(() => parseCapacityArgs(['--rate', '10', '--surprise', '1']), /Unknown option/);
  t.throws(() => buildInputs({ rate: 10 }, undefined), /--hit-ratio is needed/);
});

t.test('the printout names every input with its source', async (t) => {
  const r = capacity(inputs);
  const md = render(r, { markdown: true, command: 'npm run capacity -- --rate 100' });
  t.match(md, /^### Capacity and cost at a 20x spike/);
  t.match(md, /`npm run capacity -- --rate 100`/);
  t.match(md, /\| Lambda concurrency \(Little: renders\/s × 400 ms \+ kept\/s × 50 ms PUT\) \| 2\.00 \| 40\.00 \|/);
  t.equal((md.match(/\| test \|/g) ?? []).length, Object.keys(inputs).length, 'one row per input, with its source');
  const text = render(r, { markdown: false, command: '' });
  t.match(text, /seconds until Lambda has them\s+30 \(10 at once, then 10 per 10 s\)/);
});
