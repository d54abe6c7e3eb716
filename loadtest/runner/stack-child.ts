// The embedded stack in its own process, so the load generator does not share the
// Preprocessor's event loop. Speaks to the parent over IPC (see stack.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EmbeddedStack, StackModule, ChildMessage, ParentMessage, StackChildOptions } from './stack-protocol.js';

/** A module specifier in a variable: the infra package is reached only through its entry point, at run time. */
const INFRA_LOCAL = '@marquee/infra/local';

async function main(): Promise<void> {
  const options = JSON.parse(process.env.MARQUEE_STACK_OPTIONS ?? '{}') as StackChildOptions;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'marquee-loadtest-')));
  const send = (m: ChildMessage) => process.send?.(m);
  let stack: EmbeddedStack;
  try {
    // MARQUEE_STACK_MODULE: another module exporting startStack (a development override; read here, at the process edge).
    const specifier = process.env.MARQUEE_STACK_MODULE ?? INFRA_LOCAL;
    const mod = (await import(specifier)) as Partial<StackModule>;
    if (typeof mod.startStack !== 'function') throw new Error(`${specifier} does not export startStack`);
    stack = await mod.startStack({
      dataDir,
      port: 0,
      logger: false,
      ...(options.lambdaConcurrency !== undefined ? { lambdaConcurrency: options.lambdaConcurrency } : {}),
      ...(options.preprocessor !== undefined ? { preprocessor: options.preprocessor } : {}),
    });
  } catch (err) {
    send({ type: 'error', message: (err as Error).stack ?? String(err) });
    process.exit(1);
  }
  const close = async () => {
    await stack.close().catch(() => undefined);
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'stats') send({ type: 'stats', id: m.id, lambda: stack.lambda.stats() });
    if (m.type === 'close') void close().then(() => process.exit(0));
  });
  // The parent went away: do not outlive it.
  process.on('disconnect', () => void close().then(() => process.exit(0)));
  send({ type: 'ready', url: stack.url, s3Endpoint: stack.s3Endpoint, lambdaEndpoint: stack.lambdaEndpoint, dataDir });
}

void main();
