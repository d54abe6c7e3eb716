import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * JSON lines on stdout, written synchronously (pino's default destination),
 * so nothing is left buffered when Lambda freezes the environment.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { svc: 'generator' }, timestamp: pino.stdTimeFunctions.isoTime });
}
