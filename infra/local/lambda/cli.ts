/**
 * `node infra/local/dist/lambda/cli.js [--port 0] [--concurrency 4] [--timeout 30] [--memory 1024]
 *   [--handler <module>] [--name marquee-generator] [--idle 300] [--env KEY=VALUE ...]`
 *
 * Serves one function on a local Lambda endpoint until SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { LogLevelVar, Type, readEnv } from '@marquee/shared';
import { startLocalLambda } from './server.js';

const USAGE =
  'usage: cli.js [--host 127.0.0.1] [--port 0] [--concurrency 4] [--timeout <s>] [--memory <MB>] ' +
  '[--handler <module>] [--export handler] [--name marquee-generator] [--idle <s>] [--env KEY=VALUE]...';

/** The Generator's Lambda bundle when it is built, else its compiled handler. */
function defaultHandler(): string {
  let handler: string;
  try {
    handler = fileURLToPath(import.meta.resolve('@marquee/generator/handler'));
  } catch (err) {
    throw new Error('no --handler given and the Generator is not built (run `npm run build`)', { cause: err });
  }
  const bundle = join(dirname(handler), 'bundle', 'index.mjs');
  return existsSync(bundle) ? bundle : handler;
}

function numberArg(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a non-negative number, got "${value}"`);
  return n;
}

function envArgs(values: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of values) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--env: expected KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

async function main(): Promise<void> {
  const { LOG_LEVEL } = readEnv(Type.Object({ LOG_LEVEL: LogLevelVar({ default: 'info' }) }));
  const logger = pino({ name: 'local-lambda', level: LOG_LEVEL, timestamp: pino.stdTimeFunctions.isoTime });
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      concurrency: { type: 'string', default: '4' },
      timeout: { type: 'string', default: '30' },
      memory: { type: 'string', default: '1024' },
      handler: { type: 'string' },
      export: { type: 'string', default: 'handler' },
      name: { type: 'string', default: 'marquee-generator' },
      idle: { type: 'string', default: '300' },
      env: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const timeoutS = numberArg('timeout', values.timeout) ?? 30;
  const idleS = numberArg('idle', values.idle) ?? 300;
  const lambda = await startLocalLambda({
    host: values.host,
    port: numberArg('port', values.port) ?? 0,
    concurrency: numberArg('concurrency', values.concurrency) ?? 4,
    idleMs: Math.round(idleS * 1000),
    logger,
    functions: {
      [values.name]: {
        handler: values.handler === undefined ? defaultHandler() : resolve(values.handler),
        exportName: values.export,
        memoryMb: numberArg('memory', values.memory) ?? 1024,
        timeoutMs: Math.round(timeoutS * 1000),
        env: envArgs(values.env),
      },
    },
  });
  logger.info({ url: lambda.url, function: values.name }, 'local lambda listening');

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal, stats: lambda.stats() }, 'local lambda stopping');
    lambda.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'local lambda: unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`local lambda: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
});
