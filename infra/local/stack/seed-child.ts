/**
 * The sample seed in a process of its own (forked by `seed-process.ts`): rendering the sample
 * artwork is sharp, librsvg and fontconfig, whose native memory (glibc arenas fragmented by
 * libvips's threads, font caches) a process never gives back. Run in the stack's process, it stayed
 * resident there for the life of the stack (`npm run rss` measures it); here it goes when this exits.
 */
import { localS3Client } from '../s3/index.js';
import { seedSamples } from '../seed/index.js';
import type { SeedChildMessage, SeedChildSettings, SeedParentMessage } from './seed-process.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as SeedChildSettings;

/** Sent, then `done` once the message is out (exiting before that would lose it). */
function send(message: SeedChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

const stop = new AbortController();
process.on('message', (m: SeedParentMessage) => m.type === 'stop' && stop.abort());
// The stack is gone (even killed outright): stop between images, as a stop asks.
process.on('disconnect', () => stop.abort());

const client = localS3Client(settings.endpoint);
let code = 0;
try {
  const result = await seedSamples({
    client,
    sourcesBucket: settings.sourcesBucket,
    background: settings.background,
    signal: stop.signal,
    ...(settings.titles !== undefined ? { titles: settings.titles } : {}),
    progress: (line) => void send({ type: 'progress', line }),
  });
  await send({
    type: 'seeded',
    titles: Object.keys(result.catalog.titles).length,
    ready: result.ready,
    seeded: result.seeded,
  });
  await result.complete;
  await send({ type: 'complete' });
} catch (err) {
  code = 1;
  const e = err instanceof Error ? err : new Error(String(err));
  await send({ type: 'failed', name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
} finally {
  client.destroy();
}
process.exit(code);
