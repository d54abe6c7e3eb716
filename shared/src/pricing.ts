/**
 * What a Generator render costs on AWS Lambda, for estimates (a rules diff's `costUsd`, the capacity
 * model). One place for the figures, so the estimates and the CDK app cannot disagree.
 *
 * Prices: AWS Lambda on-demand, arm64 (Graviton), us-east-1, the first duration tier (up to 7.5
 * billion GB-s a month), without the free tier, from https://aws.amazon.com/lambda/pricing/ as
 * public price lists give them from the arm64 launch (2021) through 2024 and as the README's cost
 * section uses them (checked 2026-11; prices change, and other regions differ: check the page).
 */

/** USD per GB-second of duration, arm64. */
export const LAMBDA_ARM64_USD_PER_GB_SECOND = 0.0000133334;

/** USD per invocation ($0.20 per million), either architecture. */
export const LAMBDA_USD_PER_REQUEST = 0.2 / 1_000_000;

/**
 * The Generator's memory. The CDK app's default (`infra/aws/lib/config.ts`): at 2048 MB Lambda gives
 * sharp about two vCPUs' worth of CPU time.
 */
export const GENERATOR_MEMORY_MIB = 2048;

/**
 * Billed duration of one render when none was measured: the README's cost estimate assumes the
 * same 500 ms, a round figure well above a boxshot-sized WebP's render (measured by
 * `npm run bench -w generator`), since AVIF and billboards take several times that and a cold
 * start adds to it. Pass a measured figure
 * (the Generator's `timings.renderMs`, or `marquee_generator_duration_seconds`) when there is one.
 */
export const DEFAULT_MS_PER_IMAGE = 500;

/**
 * CloudFront invalidation: the first 1,000 paths a month are free per AWS account, then each path
 * costs $0.005, a `*` path counting as one however many objects it covers (Amazon CloudFront
 * Developer Guide, "Paying for file invalidation"; CloudFront pricing page, same reading).
 */
export const CLOUDFRONT_FREE_INVALIDATION_PATHS_PER_MONTH = 1000;
export const CLOUDFRONT_USD_PER_INVALIDATION_PATH = 0.005;

export interface LambdaCostInput {
  invocations: number;
  /** Mean billed duration per invocation. */
  msPerInvocation: number;
  memoryMiB?: number;
  usdPerGbSecond?: number;
  usdPerRequest?: number;
}

/** USD for `invocations` of `msPerInvocation` each: duration (GB-s) plus requests. */
export function lambdaCostUsd(input: LambdaCostInput): number {
  const gb = (input.memoryMiB ?? GENERATOR_MEMORY_MIB) / 1024;
  const gbSeconds = input.invocations * (input.msPerInvocation / 1000) * gb;
  return (
    gbSeconds * (input.usdPerGbSecond ?? LAMBDA_ARM64_USD_PER_GB_SECOND) +
    input.invocations * (input.usdPerRequest ?? LAMBDA_USD_PER_REQUEST)
  );
}
