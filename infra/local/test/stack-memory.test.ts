// The stack's process at rest holds no image library: the sample seed renders in a process of its
// own (stack/seed-process.ts), whose native memory (libvips, librsvg, fontconfig, glibc arenas)
// leaves when it exits. In the stack's process it stayed resident for the stack's life (issue 19,
// point 9; `npm run rss` prints the figures). Imports only the stack, never sharp.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack } from '../stack/stack.js';

const libvipsMapped = (): boolean => /libvips/.test(readFileSync('/proc/self/maps', 'utf8'));

/** Processes whose parent is this one and whose command line names `seed-child`. */
function seedProcesses(): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('seed-child')) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

t.test('the sample seed renders outside the stack process, and stops with the stack', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-stack-memory-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.notOk(libvipsMapped(), 'libvips is not in this process to begin with');

  const stack = await startStack({
    dataDir: path.join(dir, 'data'),
    port: 0,
    logger: false,
    lambdaConcurrency: 1,
    seedInBackground: true,
  });
  let closed = false;
  t.teardown(() => (closed ? undefined : stack.close()));
  t.ok(stack.seed && stack.seed.ready > 0 && stack.seed.ready < stack.seed.titles, 'the first titles are in');
  const res = await fetch(`${stack.url}/v1/artwork/boxshot/80000001/342x513.jpg`);
  await res.arrayBuffer();
  t.equal(res.status, 200, 'a seeded title renders');
  t.equal(seedProcesses().length, 1, 'the rest is rendered by the seed process');
  t.notOk(libvipsMapped(), 'libvips was never loaded into the stack process');

  await stack.close();
  closed = true;
  t.same(seedProcesses(), [], 'closing the stack stopped the seed process');
  await t.rejects(stack.seed!.complete, 'the interrupted seed says it did not complete');
});
