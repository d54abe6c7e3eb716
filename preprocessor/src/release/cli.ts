#!/usr/bin/env node
/**
 * `npm run release -- --candidate <bundle folder|zip|version> [--sample 200] [--shift 10,50,100]
 *   [--local] [--function marquee-generator] [--alias live] [--threshold 5e-4] [--concurrency 2]
 *   [--probes 20] [--dwell <s>] [--preprocessor-metrics URL] [--out DIR] [--type T] [--title ID]
 *   [--format jpeg,webp]`
 *
 * Publishes the candidate as a version of the Generator, renders a deterministic sample of the
 * derivative universe through the version the alias serves and through the candidate (by version
 * number), compares each pair, writes report.json and index.html under --out, and with --shift
 * weights the alias onto the candidate step by step, rolling back at a breach. Exit 0: released
 * (or, without --shift, the gate passed); 1: the gate failed or the shift rolled back; 2: usage.
 *
 * Uses the Preprocessor's configuration (MARQUEE_RULES, MARQUEE_CATALOG, MARQUEE_GENERATOR_FUNCTION,
 * MARQUEE_LAMBDA_ENDPOINT, …); `--local` fills in the embedded stack's (`npm start`). On AWS, give
 * the function name from the CDK outputs (GeneratorFunctionName) and no endpoint: the same client
 * drives the real alias.
 *
 * CodeDeploy: a deployment of the `live` alias runs this gate as its BeforeAllowTraffic hook
 * (infra/aws/lib/generator.ts), with `--candidate <the new version>` and no --shift: CodeDeploy
 * does the shifting and rolls back on the GeneratorFailures alarm.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { FORMATS, configOrExit, type Format } from '@marquee/shared';
import { loadConfig, type PreprocessorConfig } from '../config.js';
import { cliClients, localStack, withLocalStack } from '../prewarm/local-stack.js';
import { s3ClientFor } from '../plugins/services.js';
import { RulesPoller } from '../rules/poller.js';
import { ReleaseError } from './publish.js';
import { runRelease } from './release.js';

const USAGE =
  'usage: npm run release -- --candidate <bundle folder|zip|version> [--sample 200] [--shift 10,50,100] [--local] ' +
  '[--function NAME] [--alias live] [--threshold 5e-4] [--concurrency 2] [--probes 20] [--dwell S] ' +
  '[--preprocessor-metrics URL] [--out DIR] [--type T] [--title ID] [--format jpeg,webp]';

function positive(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
    throw new ReleaseError(`--${name}: expected a ${integer ? 'whole ' : ''}number ≥ 0, got "${value}"`);
  return n;
}

function steps(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((s) => Number(s.trim()));
  const increasing = list.every((n, i) => i === 0 || n > (list[i - 1] as number));
  if (list.some((n) => !Number.isFinite(n) || n <= 0 || n > 100) || !increasing || list.at(-1) !== 100)
    throw new ReleaseError(`--shift: expected increasing percentages ending at 100, e.g. 10,50,100; got "${value}"`);
  return list;
}

function formats(value: string): Format[] {
  const list = value.split(',').map((f) => (f.trim() === 'jpg' ? 'jpeg' : f.trim()));
  const known: readonly string[] = FORMATS;
  const bad = list.filter((f) => !known.includes(f));
  if (bad.length > 0) throw new ReleaseError(`--format: unknown ${bad.join(', ')}; expected ${FORMATS.join(', ')}`);
  return list as Format[];
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      candidate: { type: 'string' },
      sample: { type: 'string', default: '200' },
      shift: { type: 'string' },
      local: { type: 'boolean', default: false },
      function: { type: 'string' },
      alias: { type: 'string', default: 'live' },
      threshold: { type: 'string' },
      concurrency: { type: 'string', default: '2' },
      probes: { type: 'string', default: '20' },
      dwell: { type: 'string', default: '0' },
      'preprocessor-metrics': { type: 'string' },
      out: { type: 'string' },
      rules: { type: 'string' },
      catalog: { type: 'string' },
      type: { type: 'string' },
      title: { type: 'string' },
      format: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  if (values.candidate === undefined) throw new ReleaseError('--candidate is required');
  const candidate = /^[0-9]+$/.test(values.candidate) ? values.candidate : resolve(values.candidate);
  return {
    candidate,
    sample: positive('sample', values.sample, true) ?? 200,
    shift: steps(values.shift),
    local: values.local,
    functionName: values.function,
    alias: values.alias,
    threshold: positive('threshold', values.threshold, false),
    concurrency: Math.max(1, positive('concurrency', values.concurrency, true) ?? 2),
    probes: positive('probes', values.probes, true) ?? 20,
    dwellMs: (positive('dwell', values.dwell, false) ?? 0) * 1000,
    metrics: values['preprocessor-metrics'],
    out: values.out,
    rules: values.rules,
    catalog: values.catalog,
    filter: {
      ...(values.type !== undefined ? { type: values.type } : {}),
      ...(values.title !== undefined ? { titleId: values.title } : {}),
      ...(values.format !== undefined ? { formats: formats(values.format) } : {}),
    },
  };
}

function configFor(args: NonNullable<ReturnType<typeof parse>>): PreprocessorConfig {
  const base = loadConfig({
    ...(args.rules !== undefined ? { rules: args.rules } : {}),
    ...(args.catalog !== undefined ? { catalog: args.catalog } : {}),
  });
  // `--local`: the embedded stack's ports and names, from the module the other CLIs use.
  return args.local ? withLocalStack(base, localStack(), args.rules !== undefined) : base;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`release: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = configOrExit(() => configFor(args));
  const clients = args.local ? cliClients(config, localStack()) : undefined;
  const s3 = clients?.s3 ?? s3ClientFor(config);
  const lambda =
    clients?.lambda ??
    new LambdaClient({
      region: config.region,
      maxAttempts: 1,
      ...(config.generator.endpoint ? { endpoint: config.generator.endpoint } : {}),
    });
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };
  let poller: RulesPoller | undefined;
  try {
    poller = await RulesPoller.create({
      rules: config.rules,
      catalog: config.catalog,
      s3Client: s3,
      pollMs: 0,
      logger: quiet,
    });
    const { rules, catalog } = poller.current();
    const outDir = args.out ?? join('.data', 'releases', new Date().toISOString().replace(/[:.]/g, '-'));
    const { exitCode } = await runRelease({
      lambda,
      functionName: args.functionName ?? config.generator.functionName,
      alias: args.alias,
      candidate: args.candidate,
      rules,
      catalog,
      sourcesBucket: config.sourcesBucket,
      sampleSize: args.sample,
      filter: args.filter,
      ...(args.threshold !== undefined ? { threshold: args.threshold } : {}),
      concurrency: args.concurrency,
      ...(args.shift !== undefined ? { shift: args.shift } : {}),
      probesPerStep: args.probes,
      dwellMs: args.dwellMs,
      ...(args.metrics !== undefined ? { preprocessorMetrics: args.metrics } : {}),
      outDir: resolve(outDir),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    return exitCode;
  } catch (err) {
    if (err instanceof ReleaseError) {
      process.stderr.write(`release: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    poller?.close();
    lambda.destroy();
    s3.destroy();
  }
}

process.exitCode = await main();
