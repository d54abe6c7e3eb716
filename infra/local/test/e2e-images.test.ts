// `npm start -- --images DIR` as a person runs it: the stack's own entry point in a child process,
// a folder of two titles (one with a second locale) and a bad file. What it prints is what is
// checked: every URL it prints answers 200 with the pixels of the file it names, the bad file is
// named and skipped, and a changed file is served again without a restart.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { childEnv, type Catalog } from '@marquee/shared';
import { IMPORT_CATALOG_KEY, importImages } from '../import/index.js';
import { localS3Client, startLocalS3 } from '../s3/index.js';

const MAIN = fileURLToPath(new URL('../stack/main.ts', import.meta.url));

type Rgb = readonly [number, number, number];
/** Each source a flat colour: a render of it is that colour wherever no badge is drawn. */
const BLUE: Rgb = [40, 90, 200];
const YELLOW: Rgb = [230, 200, 40];
const GREEN: Rgb = [40, 160, 90];
const MAGENTA: Rgb = [200, 60, 200];
const ORANGE: Rgb = [240, 120, 20];

function flat(width: number, height: number, [r, g, b]: Rgb, format: 'png' | 'jpeg'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .toFormat(format)
    .toBuffer();
}

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-images-'));
const images = path.join(dir, 'art');
t.teardown(() => rm(dir, { recursive: true, force: true }));
await mkdir(path.join(images, 't1'), { recursive: true });
await mkdir(path.join(images, 't2'), { recursive: true });
await writeFile(path.join(images, 't1', 'boxshot.png'), await flat(400, 600, BLUE, 'png'));
await writeFile(path.join(images, 't1', 'boxshot.fr.png'), await flat(400, 600, YELLOW, 'png'));
await writeFile(path.join(images, 't1', 'boxshot.json'), JSON.stringify({ focal: { x: 0.5, y: 0.4 } }));
await writeFile(path.join(images, 't1', 'title.json'), JSON.stringify({ name: 'Title One', flags: ['top10'] }));
await writeFile(path.join(images, 't2', 'billboard.jpg'), await flat(960, 540, GREEN, 'jpeg'));
await writeFile(path.join(images, 't2', 'logo.png'), await flat(600, 200, MAGENTA, 'png'));
// The bad file: named like artwork, not an image.
await writeFile(path.join(images, 't2', 'boxshot.fr.jpg'), 'this is not a JPEG\n');
const expected: Record<string, Rgb> = {
  't1/boxshot.png': BLUE,
  't1/boxshot.fr.png': YELLOW,
  't2/billboard.jpg': GREEN,
  't2/logo.png': MAGENTA,
};

/** The stack's stdout, line by line, with a way to wait for a line. */
class Output {
  readonly lines: string[] = [];
  private waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(line)) return true;
        w.resolve(line);
        return false;
      });
    });
  }

  /** The next line (from `from` on) that passes `test`. */
  next(test: (line: string) => boolean, from = 0): Promise<string> {
    const seen = this.lines.slice(from).find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--images', images], {
  env: childEnv({
    PORT: '0',
    MARQUEE_LOCAL_S3_PORT: '0',
    MARQUEE_LOCAL_LAMBDA_PORT: '0',
    MARQUEE_DATA_DIR: path.join(dir, 'data'),
    MARQUEE_LOCAL_LAMBDA_CONCURRENCY: '2',
    // Tap runs files side by side on two cores: load shedding would turn a slow moment into a 503.
    MARQUEE_MAX_EVENT_LOOP_DELAY_MS: '0',
  }),
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stderr = '';
child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
t.teardown(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
});
const out = new Output(child);
const exited = once(child, 'exit');
await Promise.race([
  out.next((line) => line.startsWith('Stop:')),
  exited.then(() => {
    throw new Error(`the stack exited before it was up:\n${out.lines.join('\n')}\n${stderr}`);
  }),
]);

/** The URL lines of the block, each with the file its note names. */
const printed = out.lines
  .map((line) => /^ {2}(http:\/\/\S+)\s+(\S+) \(/.exec(line))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ url: m[1]!, file: m[2]! }));

async function centre(url: string): Promise<{ status: number; rgb?: Rgb; corner?: Rgb; type: string | null }> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) return { status: res.status, type: res.headers.get('content-type') };
  const img = sharp(body).removeAlpha();
  const { width = 0, height = 0 } = await sharp(body).metadata();
  const mean = async (left: number, top: number, w: number, h: number): Promise<Rgb> => {
    // stats() describes its input: the region is cut out first.
    const region = await img.clone().extract({ left, top, width: w, height: h }).png().toBuffer();
    const { channels } = await sharp(region).stats();
    return [channels[0]!.mean, channels[1]!.mean, channels[2]!.mean].map(Math.round) as unknown as Rgb;
  };
  const size = Math.floor(Math.min(width, height) / 5);
  return {
    status: 200,
    type: res.headers.get('content-type'),
    rgb: await mean(Math.floor(width / 2 - size / 2), Math.floor(height / 2 - size / 2), size, size),
    corner: await mean(width - size, 0, size, size),
  };
}

function near(t: Tap, actual: Rgb | undefined, want: Rgb, what: string): void {
  const off = actual ? Math.max(...actual.map((v, i) => Math.abs(v - want[i]!))) : Infinity;
  t.ok(off <= 12, `${what}: ${JSON.stringify(actual)} ≈ ${JSON.stringify(want)}`);
}
type Tap = Pick<typeof t, 'ok'>;

t.test('every printed URL answers 200 with the pixels of the file it names', async (t) => {
  t.same(printed.map((p) => p.file).sort(), Object.keys(expected).sort(), 'one URL per good image');
  for (const { url, file } of printed) {
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/artwork\/[a-z]+\/t[12]\/\d+x\d+\.(jpg|png)(\?locale=fr)?$/, url);
    const res = await centre(url);
    t.equal(res.status, 200, `${url} (${file})`);
    near(t, res.rgb, expected[file]!, file);
  }
  const fr = printed.find((p) => p.file === 't1/boxshot.fr.png');
  t.match(fr?.url, /\?locale=fr$/, 'the second locale has its own URL');
  // title.json's flag: the rules' top10 badge in the corner of t1's boxshots, not of t2's art.
  const boxshot = await centre(printed.find((p) => p.file === 't1/boxshot.png')!.url);
  t.ok(
    boxshot.corner![0] > 150 && boxshot.corner![2] < 120,
    `t1 carries the top10 badge: ${JSON.stringify(boxshot.corner)}`,
  );
  const billboard = await centre(printed.find((p) => p.file === 't2/billboard.jpg')!.url);
  near(t, billboard.corner, GREEN, 't2 has no flag: no badge');
});

t.test('the bad file is named with the reason, and not served', async (t) => {
  t.ok(
    out.lines.some((l) => /imported 4 images of 2 titles, skipped 1 file \(/.test(l)),
    'one skipped file, in the singular',
  );
  const skipped = out.lines.findIndex((line) => /^Skipped 1 file/.test(line));
  t.ok(skipped > 0, 'a Skipped section');
  // The reason is the studio upload check's own.
  t.match(out.lines[skipped + 1], /^ {2}t2\/boxshot\.fr\.jpg\s+The file is not a .*image$/);
  t.notOk(
    printed.some((p) => p.file === 't2/boxshot.fr.jpg'),
    'no URL for it',
  );
  const base = new URL(printed[0]!.url).origin;
  const res = await fetch(`${base}/v1/artwork/boxshot/t2/342x513.jpg?locale=fr`);
  t.equal(res.status, 404, 't2 has no boxshot');
  await res.arrayBuffer();
  t.equal(child.exitCode, null, 'never fatal');
});

t.test('a changed file is re-imported while running: the same URL, the new pixels', async (t) => {
  const { url } = printed.find((p) => p.file === 't1/boxshot.png')!;
  const before = await fetch(url);
  const etag = before.headers.get('etag');
  await before.arrayBuffer();
  // Made first, written back to back: one change for the watcher's debounce.
  const orange = await flat(400, 600, ORANGE, 'png');
  const fixedJpeg = await flat(400, 600, BLUE, 'jpeg');
  const misnamed = await flat(960, 540, GREEN, 'png');
  const from = out.lines.length;
  await writeFile(path.join(images, 't1', 'boxshot.png'), orange);
  // The bad file fixed in the same change: imported now. A new bad one, and a PNG named .jpg.
  await writeFile(path.join(images, 't2', 'boxshot.fr.jpg'), fixedJpeg);
  await writeFile(path.join(images, 't2', 'logo.fr.png'), 'not a PNG either\n');
  await writeFile(path.join(images, 't1', 'billboard.jpg'), misnamed);
  const line = await out.next((l) => l.includes('images re-imported'), from);
  const log = JSON.parse(line) as { changed: string[]; skipped: Array<{ file: string }> };
  t.ok(log.changed.includes(url), 'the log names the changed URL');
  t.same(
    log.skipped.map((s) => s.file),
    ['t2/logo.fr.png'],
    'the fixed file is no longer skipped; the new bad one is',
  );
  // The same for a person, beside the log line, as the banner shows it (the warning block comes last).
  // Printed with the log line, or never: a bounded wait.
  const warned = await Promise.race([
    out.next((l) => l === 'Imported 1 file with a warning:', from),
    sleep(20_000).then(() => ''),
  ]);
  t.ok(warned, 'a warning block after the re-import');
  const warnedAt = warned ? out.lines.indexOf(warned, from) : out.lines.length;
  if (warned) await out.next(() => true, warnedAt + 1);
  t.match(out.lines[warnedAt + 1], /^ {2}t1\/billboard\.jpg\s+a PNG named \.jpg \(JPEG\): imported as the PNG it is$/);
  const skippedAt = out.lines.indexOf('Skipped 1 file (not imported):', from);
  t.ok(skippedAt > 0 && skippedAt < warnedAt, 'a Skipped block after the re-import');
  t.match(out.lines[skippedAt + 1], /^ {2}t2\/logo\.fr\.png\s+The file is not a .*image$/);
  const after = await centre(url);
  t.equal(after.status, 200);
  near(t, after.rgb, ORANGE, 'the new pixels');
  const again = await fetch(url);
  t.not(again.headers.get('etag'), etag, 'a new version, a new ETag');
  await again.arrayBuffer();
  const fixed = log.changed.find((u) => u.includes('/boxshot/t2/'));
  t.ok(fixed, 'the fixed file has a URL');
  near(t, (await centre(fixed!)).rgb, BLUE, 'the fixed file');
});

t.test('every log line of every process has the same ISO time format', async (t) => {
  const json = out.lines.filter((line) => line.startsWith('{'));
  const processes = new Set<string>();
  for (const line of json) {
    const entry = JSON.parse(line) as { time: unknown; svc?: string; name?: string; msg?: string };
    t.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, entry.msg ?? line.slice(0, 80));
    processes.add(entry.svc ?? entry.name ?? 'preprocessor');
  }
  t.ok(
    processes.has('generator') && processes.has('stack') && processes.has('preprocessor'),
    [...processes].join(', '),
  );
  t.notMatch(stderr, /NodeVersionSupportWarning/, "the SDK's warning is not repeated per process");
  const onOldNode = Number(process.versions.node.split('.')[0]) < 22;
  t.equal(
    out.lines.filter((line) => /January 2027/.test(line)).length,
    onOldNode ? 1 : 0,
    'the Node notice, once per start (on Node 20 only)',
  );
});

t.test('Ctrl-C stops it cleanly', async (t) => {
  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  t.equal(code, 0);
});

t.test('the importer: what it skips and why, what a second import reads again', async (t) => {
  const folder = t.testdir({
    '.DS_Store': 'ignored quietly',
    'notes.txt': 'not in a title folder',
    'bad id': {},
    a1: {
      'boxshot.png': await flat(200, 300, BLUE, 'png'),
      // Two files for one artwork: the first by name (boxshot.en.jpg) wins, the other is named.
      'boxshot.en.jpg': await flat(200, 300, GREEN, 'jpeg'),
      'boxshot.PT-br.png': await flat(200, 300, YELLOW, 'png'),
      'boxshot.json': JSON.stringify({ focal: { x: 0.25, y: 0.75 } }),
      'poster.png': await flat(200, 300, BLUE, 'png'),
      'billboard.json': '{ not json',
      'logo.fr.json': '{}',
      'My Poster.jpg': await flat(10, 10, BLUE, 'jpeg'),
      'title.json': JSON.stringify({ flags: 'top10' }),
      'boxshot.jpg~': 'an editor backup',
      extras: {},
    },
    // A title with nothing good is not in the catalog.
    a2: { 'logo.png': 'truncated' },
  });
  // Not in the fixture: a second t.testdir() would replace it.
  const s3 = await startLocalS3({ directory: await mkdtemp(path.join(dir, 's3-')), buckets: ['b'] });
  t.teardown(() => s3.close());
  const client = localS3Client(s3.endpoint);
  t.teardown(() => client.destroy());
  const options = {
    dir: folder,
    client,
    bucket: 'b',
    types: new Set(['boxshot', 'billboard', 'logo']),
    defaultLocale: 'en',
  };

  const first = await importImages(options);
  const reasons = Object.fromEntries(first.skipped.map((s) => [s.file, s.reason]));
  t.same(Object.keys(reasons).sort(), [
    'a1/My Poster.jpg',
    'a1/billboard.json',
    'a1/boxshot.png',
    'a1/extras/',
    'a1/logo.fr.json',
    'a1/poster.png',
    'a1/title.json',
    'a2/logo.png',
    'bad id/',
    'notes.txt',
  ]);
  t.match(reasons['a1/boxshot.png'], /a1\/boxshot\.en\.jpg is already the boxshot for en/);
  t.match(reasons['a1/poster.png'], /"poster" is not an artwork type of the rules/);
  t.match(reasons['a1/billboard.json'], /not JSON/);
  t.match(reasons['a1/title.json'], /\/flags/);
  t.match(reasons['a2/logo.png'], /not a .*image/);
  t.same(
    first.images.map((i) => [i.file, i.locale, i.focal]),
    [
      ['a1/boxshot.PT-br.png', 'pt-BR', { x: 0.25, y: 0.75 }],
      ['a1/boxshot.en.jpg', 'en', { x: 0.25, y: 0.75 }],
    ],
    "locales in the route's spelling; the focal point from the sidecar",
  );
  t.same(Object.keys(first.catalog.titles), ['a1']);
  t.same(first.catalog.titles.a1!.flags, [], 'a bad title.json: no flags');
  const stored = await client.send(new GetObjectCommand({ Bucket: 'b', Key: IMPORT_CATALOG_KEY }));
  t.same(JSON.parse(await stored.Body!.transformToString()) as Catalog, first.catalog);
  t.equal(first.written, true);
  t.equal(first.changed.length, 2);

  const second = await importImages({ ...options, previous: first });
  t.equal(second.written, false, 'nothing changed: the catalog is not rewritten');
  t.same(second.changed, []);
  t.same(second.images, first.images, 'the same versions');

  await writeFile(path.join(folder, 'a1', 'boxshot.en.jpg'), await flat(200, 300, ORANGE, 'jpeg'));
  const third = await importImages({ ...options, previous: second });
  t.same(
    third.changed.map((i) => i.file),
    ['a1/boxshot.en.jpg'],
    'only the changed file is a new version',
  );
  t.not(third.catalog.titles.a1!.artwork.boxshot!.en!.version, first.catalog.titles.a1!.artwork.boxshot!.en!.version);
  t.equal(third.written, true);
});
