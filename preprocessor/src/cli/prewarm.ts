#!/usr/bin/env node
/**
 * `npm run prewarm -- [--title ID] [--type T] [--locale L] [--rules FILE|s3://…] [--catalog FILE|s3://…]
 *   [--local] [--concurrency N] [--dry-run]`
 *
 * Renders the rules' warm set (each type's `prewarm` section) of the selected artwork into the
 * derivative store, skipping what the store has: re-running continues an interrupted run. Uses the
 * Preprocessor's configuration (the same variables: buckets, endpoints, function name); `--local`
 * fills in the embedded stack's endpoints and credentials (`npm start`) where none are set.
 * A progress bar on a terminal, plain progress lines otherwise; exit 1 when an image failed.
 */
import { ConfigError, configOrExit, plural, quietSdkNodeNotice } from '@marquee/shared';
import { loadConfig, type PreprocessorConfig } from '../config.js';
import { USAGE, parsePrewarmArgs, progressBar, type PrewarmArgs } from '../prewarm/cli-args.js';
import {
  cliClients,
  localPrewarmConcurrency,
  localStack,
  withLocalStack,
  type LocalStack,
} from '../prewarm/local-stack.js';
import { standalonePrewarmer } from '../prewarm/standalone.js';
import { warmSet, type WarmFilter } from '../prewarm/warm-set.js';
import { typeNames } from '../rules/model.js';
import { RulesPoller } from '../rules/poller.js';

function configFor(args: PrewarmArgs, local: LocalStack | undefined): PreprocessorConfig {
  const base = loadConfig({
    ...(args.rules !== undefined ? { rules: args.rules } : {}),
    ...(args.catalog !== undefined ? { catalog: args.catalog } : {}),
  });
  return local ? withLocalStack(base, local, args.rules !== undefined) : base;
}

const out = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  // The SDK's notice about the Node release: the stack gives it at `npm start`, not each CLI call.
  quietSdkNodeNotice();
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const args = parsePrewarmArgs(argv);
  const local = args.local ? configOrExit(() => localStack()) : undefined;
  const config = configOrExit(() => configFor(args, local));
  const bucket = config.derivativesBucket;
  if (bucket === undefined) throw new Error('the derivative store needs MARQUEE_DERIVATIVES_BUCKET (or --local)');
  const { s3, lambda } = cliClients(config, local);
  const quiet = {
    info: () => {},
    warn: () => {},
    error: (obj: object, msg?: string) => out(`${msg ?? ''} ${JSON.stringify(obj)}`),
  };
  let rulesPoller: RulesPoller | undefined;
  let closeStandalone: (() => void) | undefined;
  try {
    rulesPoller = await RulesPoller.create({
      rules: config.rules,
      catalog: config.catalog,
      s3Client: s3,
      pollMs: 0,
      logger: quiet,
    });
    const { rules, catalog } = rulesPoller.current();
    const { filter } = args;
    if (filter.titleId !== undefined && !Object.hasOwn(catalog.titles, filter.titleId))
      throw new Error(`unknown title ${filter.titleId} (not in ${config.catalog})`);
    if (filter.type !== undefined && !typeNames(rules).includes(filter.type))
      throw new Error(`unknown type ${filter.type}; the rules define ${typeNames(rules).join(', ')}`);
    const entries = warmSet(rules, catalog, config.sourcesBucket, [filter]);
    out(
      `prewarm: ${entries.length} ${plural(entries.length, 'image')} in the warm set of ${describe(filter)} (rules ${config.rules}, catalog ${config.catalog})`,
    );
    if (args.dryRun) {
      for (const entry of entries) process.stdout.write(`${entry.url}\n`);
      return 0;
    }
    if (entries.length === 0) return 0;

    const tty = process.stderr.isTTY === true;
    let lastLine = 0;
    const standalone = standalonePrewarmer(config, {
      s3,
      lambda,
      concurrency: args.concurrency ?? (local ? localPrewarmConcurrency(local, config) : undefined),
      logger: {
        info: () => {},
        warn: (obj: object, msg?: string) => {
          const { url, code } = obj as { url?: string; code?: string };
          out(`${tty ? '\n' : ''}prewarm: ${msg ?? 'warning'}: ${url ?? ''} ${code ?? ''}`.trimEnd());
        },
      },
    });
    closeStandalone = standalone.close;
    const { prewarmer } = standalone;
    const summary = await prewarmer.run(entries, {
      reason: 'cli',
      onProgress: (p) => {
        if (tty) process.stderr.write(`\r${progressBar(p)}`);
        else if (p.done === p.total || performance.now() - lastLine >= 2000) {
          lastLine = performance.now();
          out(
            `prewarm: ${p.done}/${p.total} done, ${p.rendered} rendered, ${p.skipped} skipped, ${p.failed} failed, ${(p.ms / 1000).toFixed(1)} s`,
          );
        }
      },
    });
    if (tty) process.stderr.write('\n');
    out(
      `prewarm: ${summary.rendered} rendered, ${summary.skipped} already stored, ${summary.failed} failed in ${(summary.ms / 1000).toFixed(1)} s`,
    );
    return summary.failed > 0 ? 1 : 0;
  } finally {
    rulesPoller?.close();
    closeStandalone?.();
    lambda.destroy();
    s3.destroy();
  }
}

function describe(filter: WarmFilter): string {
  const parts = [
    filter.titleId !== undefined ? `title ${filter.titleId}` : 'every title',
    filter.type !== undefined ? `type ${filter.type}` : undefined,
    filter.locale !== undefined ? `locale ${filter.locale}` : undefined,
  ];
  return parts.filter(Boolean).join(', ');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      out(err.message);
    } else {
      out(`prewarm: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    }
    process.exit(2);
  },
);
