// Prices and AWS limits the capacity model uses, each with where it comes from. Lambda's prices come
// from @marquee/shared (one place, shared with the rules diff's costUsd); Fargate's are here until
// shared/src/pricing.ts carries them. On-demand, us-east-1, no free tier; check the pages for your region.
import { GENERATOR_MEMORY_MIB, LAMBDA_ARM64_USD_PER_GB_SECOND, LAMBDA_USD_PER_REQUEST } from '@marquee/shared';

/** A figure the model uses and the source a reader can check it against. */
export interface Sourced {
  value: number;
  source: string;
}

const LAMBDA_PRICING = 'https://aws.amazon.com/lambda/pricing/';
const FARGATE_PRICING = 'https://aws.amazon.com/fargate/pricing/';

export const PRICES = {
  lambdaUsdPerGbSecond: {
    value: LAMBDA_ARM64_USD_PER_GB_SECOND,
    source: `@marquee/shared pricing.ts: Lambda arm64, us-east-1, first 7.5 billion GB-s/month (${LAMBDA_PRICING})`,
  },
  lambdaUsdPerRequest: {
    value: LAMBDA_USD_PER_REQUEST,
    source: `@marquee/shared pricing.ts: $0.20 per million requests (${LAMBDA_PRICING})`,
  },
  fargateUsdPerVcpuHour: {
    value: 0.03238,
    source: `Fargate Linux/ARM (Graviton) per vCPU-hour, us-east-1 (${FARGATE_PRICING}; the README's cost section uses it)`,
  },
  fargateUsdPerGbHour: {
    value: 0.00356,
    source: `Fargate Linux/ARM (Graviton) per GB-hour, us-east-1 (${FARGATE_PRICING})`,
  },
} as const satisfies Record<string, Sourced>;

/** Lambda's scaling limits, as AWS documents them (stated inputs: an account may differ). */
export const LAMBDA_LIMITS = {
  accountConcurrency: {
    value: 1000,
    source:
      'Lambda quotas: concurrent executions, default 1,000 per Region, can be raised to tens of thousands; new accounts start lower (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)',
  },
  initialBurst: {
    value: 1000,
    source:
      'Lambda scaling behaviour: each function can add 1,000 execution environments every 10 s (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html); the first 10 s step taken as the initial burst',
  },
  perTenSeconds: {
    value: 1000,
    source:
      'Lambda scaling behaviour: 1,000 execution environments every 10 s per function, or 10,000 requests/s every 10 s (https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html)',
  },
  mbPerVcpu: {
    value: 1769,
    source:
      'Lambda allocates CPU in proportion to memory: 1,769 MB is one vCPU (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)',
  },
  generatorMemoryMb: {
    value: GENERATOR_MEMORY_MIB,
    source: '@marquee/shared GENERATOR_MEMORY_MIB: the CDK app default (infra/aws/lib/config.ts)',
  },
} as const satisfies Record<string, Sourced>;

/** The Preprocessor's Fargate task as the CDK app sizes it (infra/aws/lib/config.ts defaults). */
export const TASK_DEFAULTS = {
  vcpu: { value: 1, source: 'infra/aws/lib/config.ts: taskCpu 1024 (1 vCPU), arm64' },
  memoryGb: { value: 2, source: 'infra/aws/lib/config.ts: taskMemoryMiB 2048' },
  utilisation: { value: 0.6, source: 'infra/aws/lib/config.ts: cpuTargetPercent 60 (the autoscaling target)' },
  minTasks: {
    value: 2,
    source: 'infra/aws/lib/config.ts: minTasks 2 (one AZ or one deployment never takes the origin down)',
  },
} as const satisfies Record<string, Sourced>;

/** Hours in the month the monthly figures use (AWS's own 730). */
export const HOURS_PER_MONTH = 730;
