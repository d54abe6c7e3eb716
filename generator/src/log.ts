import { pino, type Logger } from 'pino';
import { GENERATOR_METRICS } from '@marquee/shared';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * JSON lines on stdout, written synchronously (pino's default destination),
 * so nothing is left buffered when Lambda freezes the environment.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { svc: 'generator' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * Members that make a failure's log line a CloudWatch Embedded Metric Format document:
 * CloudWatch Logs extracts the metric from the line itself, so the hot path makes no
 * SDK call. EMF reads the metric value and the dimension values from top-level members,
 * which is where pino writes the merged object's keys; `code` is the line's own member.
 * Two dimension sets: `FunctionName` alone (what the alarm sums) and per `code`.
 * Only failure lines carry it: a success line has none, so CloudWatch ingests no
 * extra bytes for the common case and the alarm reads no data as not breaching.
 * Off Lambda (no function name) there is nothing to extract it, and none is added.
 */
export function failureMetric(
  functionName: string | undefined,
  code: string,
  status: number,
  now = Date.now(),
): Record<string, unknown> {
  if (functionName === undefined) return {};
  const { namespace, failures, clientErrors, functionDimension } = GENERATOR_METRICS;
  const metric = status >= 500 ? failures : clientErrors;
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [[functionDimension], [functionDimension, 'code']],
          Metrics: [{ Name: metric, Unit: 'Count' }],
        },
      ],
    },
    [functionDimension]: functionName,
    code,
    [metric]: 1,
  };
}

/** The EMF members that count one failed derivative PUT (the render was still served). */
export function storeFailureMetric(functionName: string | undefined, now = Date.now()): Record<string, unknown> {
  if (functionName === undefined) return {};
  const { namespace, storeFailures, functionDimension } = GENERATOR_METRICS;
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        { Namespace: namespace, Dimensions: [[functionDimension]], Metrics: [{ Name: storeFailures, Unit: 'Count' }] },
      ],
    },
    [functionDimension]: functionName,
    [storeFailures]: 1,
  };
}
