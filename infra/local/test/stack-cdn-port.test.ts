// The CDN's port under `npm start -- --cdn` is set as the stack's other ports are: one variable
// (MARQUEE_LOCAL_CDN_PORT, default 8081), checked with them, and printed in the start block.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { childEnv } from '@marquee/shared';
import { DEFAULT_CDN_PORT, VARNISHD } from '../cdn/varnish.js';
import { banner } from '../stack/banner.js';
import { localStackSettings } from '../stack/env.js';

const MAIN = fileURLToPath(new URL('../stack/main.ts', import.meta.url));

t.test('MARQUEE_LOCAL_CDN_PORT: 8081 unless set, a port like the others', async (t) => {
  t.equal(localStackSettings({}).MARQUEE_LOCAL_CDN_PORT, DEFAULT_CDN_PORT);
  t.equal(DEFAULT_CDN_PORT, 8081);
  t.equal(localStackSettings({ MARQUEE_LOCAL_CDN_PORT: '9181' }).MARQUEE_LOCAL_CDN_PORT, 9181);
  t.equal(localStackSettings({ MARQUEE_LOCAL_CDN_PORT: '0' }).MARQUEE_LOCAL_CDN_PORT, 0, '0: any free port');
  t.throws(() => localStackSettings({ MARQUEE_LOCAL_CDN_PORT: '65536' }), /MARQUEE_LOCAL_CDN_PORT/);
  t.throws(() => localStackSettings({ MARQUEE_LOCAL_CDN_PORT: 'http' }), /MARQUEE_LOCAL_CDN_PORT/);
});

t.test('the start block names the CDN and what is behind it, only with --cdn', async (t) => {
  const input = {
    seconds: 1,
    base: 'http://127.0.0.1:9181',
    urls: [],
    serving: 'Try:',
    studio: { url: 'http://127.0.0.1:9181/studio', token: 'x' },
    metricsUrl: 'http://127.0.0.1:8080/metrics',
    dataDir: '/data',
    rules: 's3://b/rules.yaml',
  };
  const withCdn = banner({ ...input, cdn: { url: 'http://127.0.0.1:9181', origin: 'http://127.0.0.1:8080' } });
  t.match(withCdn, /^CDN: +http:\/\/127\.0\.0\.1:9181 .*http:\/\/127\.0\.0\.1:8080.*MARQUEE_LOCAL_CDN_PORT/m);
  t.notMatch(banner(input), /^CDN:/m);
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const noVarnish = existsSync(VARNISHD) ? false : `${VARNISHD} not installed (apt-get install varnish)`;

t.test('npm start -- --cdn listens on MARQUEE_LOCAL_CDN_PORT and prints it', { skip: noVarnish }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-cdn-port-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A folder of one image: no sample seed to render.
  await mkdir(path.join(dir, 'art', 't1'), { recursive: true });
  const png = await sharp({ create: { width: 200, height: 300, channels: 3, background: '#2a5ac8' } })
    .png()
    .toBuffer();
  await writeFile(path.join(dir, 'art', 't1', 'boxshot.png'), png);

  const cdnPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--cdn', '--images', path.join(dir, 'art')], {
    env: childEnv({
      PORT: '0',
      MARQUEE_LOCAL_S3_PORT: '0',
      MARQUEE_LOCAL_LAMBDA_PORT: '0',
      MARQUEE_LOCAL_CDN_PORT: String(cdnPort),
      MARQUEE_DATA_DIR: path.join(dir, 'data'),
      MARQUEE_LOCAL_LAMBDA_CONCURRENCY: '1',
      MARQUEE_MAX_EVENT_LOOP_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  const lines: string[] = [];
  const up = new Promise<void>((resolve) =>
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('Stop:')) resolve();
    }),
  );
  await Promise.race([
    up,
    exited.then(() => {
      throw new Error(`the stack exited before it was up:\n${lines.join('\n')}\n${stderr}`);
    }),
  ]);

  const cdnLine = lines.find((line) => line.startsWith('CDN:'));
  t.match(
    cdnLine,
    new RegExp(`^CDN: +http://127\\.0\\.0\\.1:${cdnPort} `),
    'the start block names the CDN on its port',
  );
  const url = lines.map((line) => /^ {2}(http:\/\/\S+)/.exec(line)?.[1]).find((u) => u !== undefined);
  t.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${cdnPort}/v1/artwork/`), 'the URLs to try go through it');
  const res = await fetch(url!);
  await res.arrayBuffer();
  t.equal(res.status, 200);
  t.match(res.headers.get('x-cdn'), /^(MISS|HIT)$/, 'Varnish answered on that port');
});
