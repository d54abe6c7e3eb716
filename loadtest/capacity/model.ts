// The capacity model: measured figures (Generator time per image, Preprocessor CPU per request, the
// CDN hit ratio) → Lambda concurrency at the base rate and at the spike (Little's law), the time
// Lambda's scaling limits need to get there, Preprocessor tasks, and what it costs — beside a
// fleet prescaled for the spike (Dynimo's comparison). Pure arithmetic: every input arrives with
// its source, and the result keeps them for printing.
import { HOURS_PER_MONTH, type Sourced } from './prices.js';

export interface CapacityInputs {
  /** Requests per second at the CDN at 1x. */
  rate: Sourced;
  /** The spike's multiple of the base rate. */
  spike: Sourced;
  /** Share of requests the CDN answers. */
  hitRatio: Sourced;
  /** Share of the requests reaching the Preprocessor it answers without a Generator invocation (output cache, derivative store, coalescing). */
  originHitRatio: Sourced;
  /** Generator time per invocation where it was measured (ms): the billed duration before the CPU-share correction. */
  generatorMs: Sourced;
  /** CPU time per render (ms): what a fleet of renderers must provision. */
  generatorCpuMs: Sourced;
  /** Preprocessor CPU per request it answers (ms). */
  preprocessorCpuMs: Sourced;
  /** Share of renders the Generator keeps in the derivative store (a PUT in the same invocation, after the reply). */
  keptPerRender: Sourced;
  /** Billed ms a kept render's PUT adds to its invocation (the CDN's reply has ended before it). */
  putMs: Sourced;
  /** Extra billed time of a new Lambda environment (INIT is billed since 2025-08-01). */
  coldStartMs: Sourced;
  lambdaMemoryMb: Sourced;
  /** Memory that buys one vCPU on Lambda; below it a CPU-bound render slows in proportion. */
  mbPerVcpu: Sourced;
  accountConcurrency: Sourced;
  initialBurst: Sourced;
  perTenSeconds: Sourced;
  taskVcpu: Sourced;
  taskMemoryGb: Sourced;
  /** Share of a task's vCPU the fleet is sized to use (the autoscaling target). */
  utilisation: Sourced;
  minTasks: Sourced;
  spikeHoursPerMonth: Sourced;
  lambdaUsdPerGbSecond: Sourced;
  lambdaUsdPerRequest: Sourced;
  fargateUsdPerVcpuHour: Sourced;
  fargateUsdPerGbHour: Sourced;
}

export interface LevelFigures {
  /** Requests per second at the CDN, at the origin, and Generator invocations per second. */
  cdnRps: number;
  originRps: number;
  /** Render invocations per second, and those of them that keep their render (PUT after the reply). */
  invocationsPerS: number;
  keptPerS: number;
  /** Little's law: invocations/s × seconds each, the kept renders' PUTs included. */
  concurrency: number;
  /** Execution environments: concurrency rounded up. */
  environments: number;
  /** vCPUs the Preprocessor needs, and its tasks (at the utilisation target, at least the minimum). */
  preprocessorVcpu: number;
  preprocessorTasks: number;
  /** USD for one hour at this level: Lambda, Preprocessor tasks, both. */
  lambdaUsdPerHour: number;
  tasksUsdPerHour: number;
  usdPerHour: number;
  /** USD per million images requested at the CDN at this level. */
  usdPerMillionImages: number;
}

export interface ScalingFigures {
  /** New environments the spike needs over the base level. */
  newEnvironments: number;
  /** Seconds until Lambda's scaling rate has added them (0: within the initial burst). */
  secondsToScale: number;
  /** Invocations throttled while scaling (the Preprocessor retries, then sheds them with Retry-After). */
  throttledWhileScaling: number;
  /** The spike's environments exceed the account's concurrency: the share of spike invocations that cannot run. */
  overAccountLimit: boolean;
  shedAtLimit: number;
  /** Billed INIT time of the new environments, once per spike (USD). */
  coldStartUsd: number;
}

export interface FleetFigures {
  /** vCPUs a fleet doing the Preprocessor's and the Generator's work needs at the spike, and its tasks. */
  vcpu: number;
  tasks: number;
  usdPerHour: number;
  /** Always on: its cost per million images at the base rate. */
  usdPerMillionImagesAtBase: number;
}

export interface CapacityResult {
  inputs: CapacityInputs;
  /** Seconds Lambda bills per invocation: generatorMs, slowed when the memory buys less than a vCPU. */
  lambdaSecondsPerInvocation: number;
  lambdaUsdPerInvocation: number;
  /** What a kept render's PUT adds to its invocation's bill (no request of its own). */
  lambdaUsdPerPut: number;
  taskUsdPerHour: number;
  base: LevelFigures;
  spike: LevelFigures;
  scaling: ScalingFigures;
  fleet: FleetFigures;
  monthly: { serverlessUsd: number; fleetUsd: number; hoursAtSpike: number };
}

interface Unit {
  lambdaS: number;
  perInvocation: number;
  perPut: number;
  taskHour: number;
}

function level(i: CapacityInputs, multiple: number, u: Unit) {
  const cdnRps = i.rate.value * multiple;
  const originRps = cdnRps * (1 - i.hitRatio.value);
  const invocationsPerS = originRps * (1 - i.originHitRatio.value);
  const keptPerS = invocationsPerS * i.keptPerRender.value;
  const concurrency = invocationsPerS * u.lambdaS + (keptPerS * i.putMs.value) / 1000;
  const preprocessorVcpu = (originRps * i.preprocessorCpuMs.value) / 1000;
  const preprocessorTasks = Math.max(
    i.minTasks.value,
    Math.ceil(preprocessorVcpu / (i.taskVcpu.value * i.utilisation.value) - 1e-9),
  );
  const lambdaUsdPerHour = invocationsPerS * 3600 * u.perInvocation + keptPerS * 3600 * u.perPut;
  const tasksUsdPerHour = preprocessorTasks * u.taskHour;
  const usdPerHour = lambdaUsdPerHour + tasksUsdPerHour;
  return {
    cdnRps,
    originRps,
    invocationsPerS,
    keptPerS,
    concurrency,
    environments: Math.ceil(concurrency - 1e-9),
    preprocessorVcpu,
    preprocessorTasks,
    lambdaUsdPerHour,
    tasksUsdPerHour,
    usdPerHour,
    usdPerMillionImages: cdnRps > 0 ? (usdPerHour / (cdnRps * 3600)) * 1e6 : 0,
  } satisfies LevelFigures;
}

/** The whole model. */
export function capacity(i: CapacityInputs): CapacityResult {
  const memGb = i.lambdaMemoryMb.value / 1024;
  // A CPU-bound render on less than a vCPU takes longer in proportion; more than one does not speed
  // up a pipeline that uses one core (sharp.concurrency is 1 where it was measured).
  const cpuShare = Math.min(1, i.lambdaMemoryMb.value / i.mbPerVcpu.value);
  const lambdaS = i.generatorMs.value / 1000 / cpuShare;
  const perInvocation = lambdaS * memGb * i.lambdaUsdPerGbSecond.value + i.lambdaUsdPerRequest.value;
  const taskHour =
    i.taskVcpu.value * i.fargateUsdPerVcpuHour.value + i.taskMemoryGb.value * i.fargateUsdPerGbHour.value;
  const perPut = (i.putMs.value / 1000) * memGb * i.lambdaUsdPerGbSecond.value;
  const unit: Unit = { lambdaS, perInvocation, perPut, taskHour };
  const base = level(i, 1, unit);
  const spike = level(i, i.spike.value, unit);

  // Scaling: the initial burst at once, then perTenSeconds more every 10 s.
  const limit = i.accountConcurrency.value;
  const target = Math.min(spike.environments, limit);
  const newEnvironments = Math.max(0, target - base.environments);
  const beyondBurst = Math.max(0, newEnvironments - i.initialBurst.value);
  const steps = Math.ceil(beyondBurst / i.perTenSeconds.value - 1e-9);
  let throttled = 0;
  // An environment short for 10 s is 10 s of invocations not run, at the mean seconds per invocation.
  const meanS = spike.concurrency / Math.max(1e-12, spike.invocationsPerS);
  for (let k = 0; k < steps; k++) {
    const available = base.environments + i.initialBurst.value + k * i.perTenSeconds.value;
    throttled += (Math.max(0, target - available) / meanS) * 10;
  }
  const overAccountLimit = spike.environments > limit;
  const scaling: ScalingFigures = {
    newEnvironments,
    secondsToScale: steps * 10,
    throttledWhileScaling: Math.round(throttled),
    overAccountLimit,
    shedAtLimit: overAccountLimit ? 1 - limit / spike.concurrency : 0,
    coldStartUsd: newEnvironments * (i.coldStartMs.value / 1000) * memGb * i.lambdaUsdPerGbSecond.value,
  };

  // The prescaled fleet: renderers and Preprocessors in the same tasks, sized for the spike, always on.
  const fleetVcpu =
    (spike.invocationsPerS * i.generatorCpuMs.value) / 1000 + (spike.originRps * i.preprocessorCpuMs.value) / 1000;
  const fleetTasks = Math.max(i.minTasks.value, Math.ceil(fleetVcpu / (i.taskVcpu.value * i.utilisation.value) - 1e-9));
  const fleetHour = fleetTasks * taskHour;
  const fleet: FleetFigures = {
    vcpu: fleetVcpu,
    tasks: fleetTasks,
    usdPerHour: fleetHour,
    usdPerMillionImagesAtBase: base.cdnRps > 0 ? (fleetHour / (base.cdnRps * 3600)) * 1e6 : 0,
  };
  const hoursAtSpike = Math.min(HOURS_PER_MONTH, i.spikeHoursPerMonth.value);
  return {
    inputs: i,
    lambdaSecondsPerInvocation: lambdaS,
    lambdaUsdPerInvocation: perInvocation,
    lambdaUsdPerPut: perPut,
    taskUsdPerHour: taskHour,
    base,
    spike,
    scaling,
    fleet,
    monthly: {
      serverlessUsd:
        base.usdPerHour * (HOURS_PER_MONTH - hoursAtSpike) +
        spike.usdPerHour * hoursAtSpike +
        scaling.coldStartUsd * hoursAtSpike,
      fleetUsd: fleetHour * HOURS_PER_MONTH,
      hoursAtSpike,
    },
  };
}
