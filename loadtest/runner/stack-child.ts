// The embedded stack in its own process, so the load generator does not share the
// Preprocessor's event loop. Speaks to the parent over IPC (see stack.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@marquee/shared';
import { stackChildSettings, type StackChildSettings } from './env.js';
import {
  DERIVATIVES_BUCKET,
  type CdnStats,
  type EmbeddedStack,
  type StackModule,
  type ChildMessage,
  type ParentMessage,
} from './stack-protocol.js';

/** A start-up failure for the parent: a bad configuration as its lines (no stack), anything else with its stack. */
function failure(err: unknown): ChildMessage {
  if (err instanceof ConfigError) return { type: 'error', message: err.message, problems: [...err.problems] };
  return { type: 'error', message: (err as Error).stack ?? String(err) };
}

/** Varnish's hit and miss counters, when the stack runs its CDN tier (and can say). */
async function cdnStats(stack: EmbeddedStack): Promise<CdnStats | undefined> {
  const read = stack.cdn?.counters;
  if (!read) return undefined;
  try {
    const c = await read();
    const n = (name: string) => c[`MAIN.${name}`] ?? 0;
    return {
      hits: n('cache_hit'),
      misses: n('cache_miss'),
      passes: n('s_pass') + n('cache_hitpass'),
      backendRequests: n('backend_req'),
    };
  } catch {
    return undefined; // varnishstat failed: the figure is missing, not zero
  }
}

async function main(): Promise<void> {
  const send = (m: ChildMessage) => process.send?.(m);
  let settings: StackChildSettings;
  try {
    settings = stackChildSettings();
  } catch (err) {
    send(failure(err));
    process.exit(1);
  }
  const { options } = settings;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'marquee-loadtest-')));
  let stack: EmbeddedStack;
  try {
    // MARQUEE_STACK_MODULE: another module exporting startStack (a development override).
    const specifier = settings.module;
    const mod = (await import(specifier)) as Partial<StackModule>;
    if (typeof mod.startStack !== 'function') throw new Error(`${specifier} does not export startStack`);
    stack = await mod.startStack({
      dataDir,
      port: 0,
      logger: false,
      derivativesBucket: DERIVATIVES_BUCKET,
      ...(options.lambdaConcurrency !== undefined ? { lambdaConcurrency: options.lambdaConcurrency } : {}),
      ...(options.preprocessor !== undefined ? { preprocessor: options.preprocessor } : {}),
      ...(options.cdn ? { cdn: true } : {}),
    });
    if (options.cdn && (stack.cdnUrl ?? stack.cdn?.url) === undefined) {
      await stack.close().catch(() => undefined);
      throw new Error(
        `${specifier}'s startStack has no CDN tier yet (cdn: true gave no cdnUrl): --cdn needs infra/local/cdn`,
      );
    }
  } catch (err) {
    // The stack's Preprocessor reads this process's environment: a bad MARQUEE_* variable lands here.
    send(failure(err));
    process.exit(1);
  }
  const close = async () => {
    await stack.close().catch(() => undefined);
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'stats')
      void cdnStats(stack).then((cdn) =>
        send({ type: 'stats', id: m.id, lambda: stack.lambda.stats(), ...(cdn ? { cdn } : {}) }),
      );
    if (m.type === 'close') void close().then(() => process.exit(0));
  });
  // The parent went away: do not outlive it.
  process.on('disconnect', () => void close().then(() => process.exit(0)));
  const cdnUrl = stack.cdnUrl ?? stack.cdn?.url;
  send({
    type: 'ready',
    url: stack.url,
    ...(cdnUrl !== undefined ? { cdnUrl } : {}),
    s3Endpoint: stack.s3Endpoint,
    derivativesBucket: DERIVATIVES_BUCKET,
    lambdaEndpoint: stack.lambdaEndpoint,
    dataDir,
  });
}

void main();
