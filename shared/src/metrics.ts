/**
 * The Generator's own CloudWatch metrics: it writes them into its failure log lines (Embedded
 * Metric Format, generator/src/log.ts) and the CDK app alarms on them (infra/aws/lib/generator.ts).
 */
export const GENERATOR_METRICS = {
  namespace: 'Marquee',
  /** Coded 5xx-class failures (ours or a source's): the ones Lambda's `Errors` never counts. */
  failures: 'GeneratorFailures',
  /** Coded 4xx failures (the caller's request or source): counted, not alarmed on. */
  clientErrors: 'ClientErrors',
  /** Renders streamed back whose derivative PUT failed afterwards (the reply was not failed). */
  storeFailures: 'StoreWriteFailures',
  /** The dimension every metric carries; the alarm sums over it alone. */
  functionDimension: 'FunctionName',
} as const;
