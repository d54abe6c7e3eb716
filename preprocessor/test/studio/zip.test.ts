// The browser-side helpers that need no DOM: the zip writer and the size parser.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 as nodeCrc32 } from 'node:zlib';
import { crc32, zip } from '../../studio-ui/zip.js';
import { parseSize } from '../../studio-ui/sizes.js';

t.test('crc32 agrees with zlib', async (t) => {
  for (const text of ['', 'a', 'The quick brown fox', 'x'.repeat(10_000)]) {
    const data = new TextEncoder().encode(text);
    t.equal(crc32(data), nodeCrc32(data), `${text.length} bytes`);
  }
});

t.test('zip: entries read back byte for byte', async (t) => {
  const entries = [
    { name: 'proposed/300x450.jpg', data: new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]) },
    { name: 'rules/342x513.webp', data: new TextEncoder().encode('RIFF....WEBP') },
  ];
  const bytes = Buffer.from(zip(entries));
  t.equal(bytes.readUInt32LE(0), 0x04034b50, 'local header first');
  const end = bytes.length - 22;
  t.equal(bytes.readUInt32LE(end), 0x06054b50, 'end of central directory last');
  t.equal(bytes.readUInt16LE(end + 10), 2, 'two entries');
  // Walk the central directory as an unzip tool would.
  let at = bytes.readUInt32LE(end + 16);
  for (const entry of entries) {
    t.equal(bytes.readUInt32LE(at), 0x02014b50);
    const size = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const offset = bytes.readUInt32LE(at + 42);
    t.equal(bytes.toString('utf8', at + 46, at + 46 + nameLength), entry.name);
    const dataAt = offset + 30 + bytes.readUInt16LE(offset + 26);
    t.same(bytes.subarray(dataAt, dataAt + size), Buffer.from(entry.data));
    t.equal(bytes.readUInt32LE(at + 16), nodeCrc32(entry.data));
    at += 46 + nameLength;
  }
  // And an independent reader agrees, where one is installed.
  if (existsSync('/usr/bin/unzip')) {
    const dir = await mkdtemp(path.join(tmpdir(), 'marquee-zip-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'set.zip'), bytes);
    const out = execFileSync('/usr/bin/unzip', ['-t', path.join(dir, 'set.zip')]).toString();
    t.match(out, /No errors detected/);
  }
});

t.test('sizes: WxH parsed, nonsense named', async (t) => {
  t.same(parseSize('300x450'), { w: 300, h: 450 });
  t.same(parseSize(' 300 × 450 '), { w: 300, h: 450 });
  for (const bad of ['300', '300x', 'x450', '0x10', '9000x10', '30.5x10', '-3x4']) {
    t.type(parseSize(bad), 'string', bad);
  }
});
