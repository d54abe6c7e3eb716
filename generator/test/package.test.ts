import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const zipFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'generator.zip');

/** File names from the zip's central directory (no zip library is installed for reading). */
function entries(file: string): string[] {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory');
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

t.test(
  'the Lambda zip holds the bundle and sharp for linux x64 and arm64',
  {
    skip: existsSync(zipFile)
      ? false
      : `no ${zipFile}: run \`npm run package -w generator\` first (root \`npm test\` does)`,
  },
  async (t) => {
    const names = new Set(entries(zipFile));
    t.ok(names.has('index.mjs'), 'index.mjs');
    for (const arch of ['x64', 'arm64']) {
      t.ok(
        [...names].some((n) => n.startsWith(`node_modules/@img/sharp-linux-${arch}/lib/`) && n.endsWith('.node')),
        `sharp-linux-${arch} binding`,
      );
      t.ok(
        [...names].some((n) => n.startsWith(`node_modules/@img/sharp-libvips-linux-${arch}/lib/libvips-cpp.so`)),
        `libvips for ${arch}`,
      );
    }
    for (const dep of [
      'sharp/package.json',
      'sharp/dist/index.mjs',
      'detect-libc/package.json',
      'semver/package.json',
      '@img/colour/package.json',
    ]) {
      t.ok(names.has(`node_modules/${dep}`), dep);
    }
  },
);
