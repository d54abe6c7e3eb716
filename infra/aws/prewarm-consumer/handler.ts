import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { pino } from 'pino';
import { readEnv } from '@marquee/shared';
import { consume } from './consume.js';
import { createEngine } from './engine.js';
import { ConsumerEnv, watchedFrom } from './env.js';
import { planner } from './planner.js';

/**
 * The prewarm consumer's Lambda entry (bundled by the CDK app, `lib/prewarm-code.ts`): SQS records
 * of S3 events → `consume` → the records to retry. A bad environment fails the cold start with one
 * line per variable, before any record is taken.
 */

const env = readEnv(ConsumerEnv);
const log = pino({ level: env.LOG_LEVEL, base: { service: 'marquee-prewarm' } });
const watched = watchedFrom(env);
const engine = createEngine(env, log, planner);

/** Store checks in flight: HEADs take nothing from the Generator, so more of them than renders. */
const CHECK_CONCURRENCY = 32;
/** Left over after the last render a consumer starts: logging and the response. */
const RESERVE_MARGIN_MS = 5000;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { batchItemFailures } = await consume(event.Records, engine, {
    watched,
    concurrency: env.MARQUEE_PREWARM_CONCURRENCY,
    checkConcurrency: CHECK_CONCURRENCY,
    remainingMs: () => context.getRemainingTimeInMillis(),
    // A render started now may take the Generator's whole deadline.
    renderReserveMs: env.MARQUEE_GENERATOR_TIMEOUT_MS + RESERVE_MARGIN_MS,
    log,
  });
  return { batchItemFailures };
}
