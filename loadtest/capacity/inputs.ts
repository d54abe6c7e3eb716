// The model's inputs: what the command line states, else what a report measured, else a stated
// default — each with its source, so the printout can say where every figure came from.
import { DEFAULT_MS_PER_IMAGE } from '@marquee/shared';
import type { CapacityInputs } from './model.js';
import type { MeasuredFigures } from './measured.js';
import { LAMBDA_LIMITS, PRICES, TASK_DEFAULTS, type Sourced } from './prices.js';

/** What the command line gave (undefined: not given). */
export interface StatedInputs {
  rate: number;
  spike?: number;
  hitRatio?: number;
  originHitRatio?: number;
  generatorMs?: number;
  generatorCpuMs?: number;
  preprocessorCpuMs?: number;
  coldStartMs?: number;
  keptPerRender?: number;
  putMs?: number;
  lambdaMemoryMb?: number;
  accountConcurrency?: number;
  initialBurst?: number;
  perTenSeconds?: number;
  taskVcpu?: number;
  taskMemoryGb?: number;
  utilisation?: number;
  minTasks?: number;
  spikeHoursPerMonth?: number;
}

const stated = (value: number, flag: string): Sourced => ({ value, source: `stated: ${flag}` });

function pick(given: number | undefined, flag: string, ...fallbacks: Array<Sourced | undefined>): Sourced {
  if (given !== undefined) return stated(given, flag);
  const found = fallbacks.find((f) => f !== undefined);
  if (!found) throw new Error(`${flag} is needed: no report measured it`);
  return found;
}

/** Cold start when none is stated: what the project measured (ANCHORS.md). */
export const DEFAULT_COLD_START: Sourced = {
  value: 400,
  source:
    'default: a fresh process importing the Generator bundle and rendering once, spawn to exit (`BENCH_ONLY=cold npm run bench -w generator`, "process" column: 250–470 ms on the 2-core bench machine), rounded up to 400 ms for the runtime\'s own start',
};

export const DEFAULT_KEPT: Sourced = {
  value: 1,
  source:
    'default: with the derivative store on, every render is kept: the Generator PUTs it after ending the reply, in the same invocation (generator/src/handler.ts)',
};

export const DEFAULT_PUT_MS: Sourced = {
  value: 50,
  source:
    'assumed: one S3 PUT of the output from the Generator, billed inside the render invocation (not measured here: the local S3 is no guide)',
};

export const DEFAULT_SPIKE_HOURS: Sourced = {
  value: 10,
  source: 'default: ten hours of spike a month (say ten launches or failovers of an hour each), one scale-up each',
};

/** The full set of inputs, with their sources. Throws naming the flag a figure is missing for. */
export function buildInputs(s: StatedInputs, m: MeasuredFigures | undefined): CapacityInputs {
  const originHitRatio = pick(s.originHitRatio, '--origin-hit-ratio', m?.originHitRatio, {
    value: 0,
    source:
      'default 0: every request that reaches the origin renders (no output cache, store or coalescing: the dearest case)',
  });
  const generatorMs = pick(s.generatorMs, '--generator-ms', m?.generatorMs, {
    value: DEFAULT_MS_PER_IMAGE,
    source: '@marquee/shared DEFAULT_MS_PER_IMAGE: the README cost section assumption, nothing measured',
  });
  const generatorCpuMs = pick(s.generatorCpuMs, '--generator-cpu-ms', m?.generatorCpuMs, {
    value: generatorMs.value,
    source: `no CPU measurement: taken equal to the Generator time (${generatorMs.value} ms)`,
  });
  // A bench measures a hit and a miss apart: the Preprocessor's CPU for the mix follows the origin hit ratio.
  const mixed =
    m?.preprocessorHitCpuMs && m.preprocessorMissCpuMs
      ? {
          value:
            Math.round(
              (originHitRatio.value * m.preprocessorHitCpuMs.value +
                (1 - originHitRatio.value) * m.preprocessorMissCpuMs.value) *
                1000,
            ) / 1000,
          source: `origin hit ratio × hit CPU (${m.preprocessorHitCpuMs.value} ms) + the rest × miss CPU (${m.preprocessorMissCpuMs.value} ms); hit: ${m.preprocessorHitCpuMs.source}; miss: ${m.preprocessorMissCpuMs.source}`,
        }
      : m?.preprocessorMissCpuMs
        ? {
            value: m.preprocessorMissCpuMs.value,
            source: `no cache hit measured: every origin request costs a miss's CPU (the dearest case); ${m.preprocessorMissCpuMs.source}`,
          }
        : undefined;
  return {
    rate: stated(s.rate, '--rate (CDN requests/s at 1x)'),
    spike:
      s.spike !== undefined ? stated(s.spike, '--spike') : { value: 20, source: 'default: the 20x spike (issue 14)' },
    hitRatio: pick(s.hitRatio, '--hit-ratio', m?.hitRatio),
    originHitRatio,
    generatorMs,
    generatorCpuMs,
    preprocessorCpuMs: pick(s.preprocessorCpuMs, '--preprocessor-cpu-ms', m?.preprocessorCpuMs, mixed),
    keptPerRender: pick(s.keptPerRender, '--kept-per-render', m?.keptPerRender, DEFAULT_KEPT),
    putMs: pick(s.putMs, '--put-ms', DEFAULT_PUT_MS),
    coldStartMs: pick(s.coldStartMs, '--cold-start-ms', DEFAULT_COLD_START),
    lambdaMemoryMb: pick(s.lambdaMemoryMb, '--lambda-memory-mb', LAMBDA_LIMITS.generatorMemoryMb),
    mbPerVcpu: LAMBDA_LIMITS.mbPerVcpu,
    accountConcurrency: pick(s.accountConcurrency, '--account-concurrency', LAMBDA_LIMITS.accountConcurrency),
    initialBurst: pick(s.initialBurst, '--initial-burst', LAMBDA_LIMITS.initialBurst),
    perTenSeconds: pick(s.perTenSeconds, '--burst-per-10s', LAMBDA_LIMITS.perTenSeconds),
    taskVcpu: pick(s.taskVcpu, '--task-vcpu', TASK_DEFAULTS.vcpu),
    taskMemoryGb: pick(s.taskMemoryGb, '--task-memory-gb', TASK_DEFAULTS.memoryGb),
    utilisation: pick(s.utilisation, '--utilisation', TASK_DEFAULTS.utilisation),
    minTasks: pick(s.minTasks, '--min-tasks', TASK_DEFAULTS.minTasks),
    spikeHoursPerMonth: pick(s.spikeHoursPerMonth, '--spike-hours', DEFAULT_SPIKE_HOURS),
    lambdaUsdPerGbSecond: PRICES.lambdaUsdPerGbSecond,
    lambdaUsdPerRequest: PRICES.lambdaUsdPerRequest,
    fargateUsdPerVcpuHour: PRICES.fargateUsdPerVcpuHour,
    fargateUsdPerGbHour: PRICES.fargateUsdPerGbHour,
  };
}
