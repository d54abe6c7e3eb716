import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { childEnv } from '@marquee/shared';

const MAIN = fileURLToPath(new URL('../stack/main.ts', import.meta.url));

/** `npm start` with a bad environment: its stderr and exit code, before anything is started. */
async function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: childEnv(env),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

t.test('a bad variable is one line naming it and what it expects, exit 1, no stack trace', async (t) => {
  const res = await start({
    PORT: '0x10',
    MARQUEE_LOCAL_LAMBDA_MEMORY_MB: '64',
    MARQUEE_LOCAL_LAMBDA_CONCURRENCY: ' 4',
  });
  t.equal(res.code, 1);
  const lines = res.stderr.trim().split('\n');
  t.equal(lines.length, 3, 'every bad variable at once');
  t.match(res.stderr, /^PORT must be an integer .*got "0x10"$/m);
  t.match(res.stderr, /^MARQUEE_LOCAL_LAMBDA_MEMORY_MB must be an integer .*128.*got "64"$/m);
  t.match(res.stderr, /^MARQUEE_LOCAL_LAMBDA_CONCURRENCY must be an integer .*got " 4"$/m);
  t.notMatch(res.stderr, /\bat .*\.ts:\d+/, 'no stack trace');
});
