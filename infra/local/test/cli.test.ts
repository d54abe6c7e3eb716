import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { FIXTURE } from './helpers.js';
import { nodeSupportNotice } from '../stack/env.js';

const CLI = fileURLToPath(new URL('../lambda/cli.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the CLI (from source, through tsx) and waits for its "listening" log line. */
async function startCli(t: Tap): Promise<{ cli: ChildProcess; url: string }> {
  const cli = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      '--port',
      '0',
      '--concurrency',
      '2',
      '--handler',
      FIXTURE,
      '--export',
      'echo',
      '--name',
      'echo',
      '--memory',
      '256',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  t.teardown(() => {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  });
  for await (const line of createInterface({ input: cli.stdout as NodeJS.ReadableStream })) {
    const log = JSON.parse(line) as { msg?: string; url?: string };
    if (log.msg === 'local lambda listening' && log.url) return { cli, url: log.url };
  }
  throw new Error('the CLI exited before listening');
}

interface Tap {
  teardown(fn: () => unknown): void;
}

async function invokePid(url: string): Promise<number> {
  const client = new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}') }));
    return (JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString()) as { pid: number }).pid;
  } finally {
    client.destroy();
  }
}

t.test('the CLI logs its URL, serves invocations and leaves no child on SIGTERM', async (t) => {
  const { cli, url } = await startCli(t);
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const pid = await invokePid(url);
  t.ok(alive(pid), 'the environment is warm');
  cli.stdout?.resume();
  cli.kill('SIGTERM');
  await once(cli, 'exit');
  t.equal(cli.exitCode, 0);
  t.notOk(alive(pid), 'the environment is gone with the endpoint');
});

t.test('environments do not outlive an endpoint that is killed outright', async (t) => {
  // SIGKILL gives the endpoint no chance to clean up: the environments notice the IPC channel close.
  const { cli, url } = await startCli(t);
  const pid = await invokePid(url);
  cli.stdout?.resume();
  cli.kill('SIGKILL');
  await once(cli, 'exit');
  while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
  t.pass('the orphaned environment exited by itself');
});

t.test('a bad option stops the CLI with a usage message', async (t) => {
  const cli = spawn(process.execPath, ['--import', 'tsx', CLI, '--handler', 'relative/nope.mjs'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  cli.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await once(cli, 'exit');
  t.equal(cli.exitCode, 2);
  t.match(stderr, /handler module not found|usage/);
});

const MAIN = fileURLToPath(new URL('../stack/main.ts', import.meta.url));

/** `npm start -- ARGS` up to its first exit: its stderr and exit code. */
async function npmStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

t.test(
  'npm start: a bad flag or a missing --images folder is a message and the usage, before anything starts',
  async (t) => {
    const unknown = await npmStart(['--imgaes', 'art']);
    t.equal(unknown.code, 1);
    t.match(unknown.stderr, /--imgaes/);
    t.match(unknown.stderr, /usage: npm start -- \[--images DIR\] \[--cdn\]/);
    t.notMatch(unknown.stderr, /\bat .*\.ts:\d+/, 'no stack trace');

    const missing = await npmStart(['--images', '/nonexistent/marquee-art']);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /--images: \/nonexistent\/marquee-art is not a folder/);

    const file = await npmStart(['--images', MAIN]);
    t.equal(file.code, 1, 'a file is not a folder either');
  },
);

t.test('the Node notice: what to do on a Node the AWS SDK will leave behind, nothing on a current one', async (t) => {
  t.match(nodeSupportNotice('v20.18.1'), /Node v20\.18\.1: .*January 2027.*Node 22.*nvm install 22.*npm ci/);
  t.equal(nodeSupportNotice('v22.11.0'), undefined);
  t.equal(nodeSupportNotice('v24.0.0'), undefined);
});
