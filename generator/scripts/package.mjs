// Builds the Lambda artefact: an esbuild ESM bundle (AWS SDK inside, sharp outside)
// and generator/dist/generator.zip with sharp's prebuilt binaries for linux x64 and
// arm64 (glibc). Idempotent: the arm64 binaries are fetched once into .cache/.
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const bundleDir = join(dist, 'bundle');
const bundleFile = join(bundleDir, 'index.mjs');
const zipFile = join(dist, 'generator.zip');
const cacheDir = join(root, '.cache');

/** A package's directory, found from generator/ as Node would (packages may not export package.json). */
function packageDir(name, from = root) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`package not found: ${name}`);
  }
}
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * sharp stays outside the bundle, loaded through require(): its CommonJS build
 * loads faster than its ESM build (compare one import of sharp/dist/index.mjs
 * with require('sharp') in fresh processes), and cold start is this function's
 * budget.
 */
const sharpViaRequire = {
  name: 'sharp-via-require',
  setup(b) {
    b.onResolve({ filter: /^sharp$/ }, (args) =>
      args.namespace === 'sharp-via-require'
        ? { path: 'sharp', external: true }
        : { path: 'sharp', namespace: 'sharp-via-require' },
    );
    b.onLoad({ filter: /.*/, namespace: 'sharp-via-require' }, () => ({
      contents: "import { createRequire } from 'node:module'; export default createRequire(import.meta.url)('sharp');",
      loader: 'js',
    }));
  },
};

/**
 * The lean S3 GET (src/source/s3-lean.ts) signs with `@smithy/signature-v4`, which shares
 * `@smithy/core` modules with the SDK: bundled as is, code splitting puts the modules they share
 * into chunks the entry imports at start. Pre-bundled on its own (small, no imports left), the
 * signer is all the first request compiles; the SDK keeps its own copy for later.
 */
const standaloneSigner = {
  name: 'standalone-signer',
  setup(b) {
    // Only the lean GET's import: the SDK's own modules resolve as usual.
    b.onResolve({ filter: /^@smithy\/signature-v4$/ }, (args) =>
      /[\\/]source[\\/]s3-lean\.ts$/.test(args.importer)
        ? { path: args.path, namespace: 'standalone-signer' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'standalone-signer' }, async () => {
      const out = await build({
        stdin: { contents: "export { SignatureV4 } from '@smithy/signature-v4';", resolveDir: root },
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        mainFields: ['module', 'main'],
        logLevel: 'warning',
      });
      return { contents: out.outputFiles[0].text, loader: 'js', resolveDir: root };
    });
  },
};

// 1. The bundle (its folder emptied first: chunk names carry hashes, stale ones must not ship).
const started = performance.now();
await rm(bundleDir, { recursive: true, force: true });
await build({
  entryPoints: { index: join(root, 'src', 'handler.ts') },
  outdir: bundleDir,
  outExtension: { '.js': '.mjs' },
  // Modules loaded on first use (the S3 client, undici for HTTP sources) go to chunks of their
  // own: a cold start compiles only what its first invocation needs.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // ESM builds of the AWS SDK tree-shake better than their CJS ones.
  mainFields: ['module', 'main'],
  external: ['sharp'],
  plugins: [sharpViaRequire, standaloneSigner],
  // Bundled CommonJS (pino, parts of the SDK) calls require() for Node built-ins.
  banner: {
    js: "import { createRequire as __marqueeCreateRequire } from 'node:module'; const require = __marqueeCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
const chunkDir = join(bundleDir, 'chunks');
const chunks = existsSync(chunkDir)
  ? readdirSync(chunkDir)
      .filter((f) => f.endsWith('.mjs'))
      .sort()
  : [];
const kib = (file) => (statSync(file).size / 1024).toFixed(0);
console.log(
  `bundle  ${relative(process.cwd(), bundleFile)}  ${kib(bundleFile)} KiB at start, ` +
    `${chunks.length} chunks loaded on first use (${chunks.map((c) => `${kib(join(chunkDir, c))} KiB`).join(', ')})  ` +
    `(${Math.round(performance.now() - started)} ms)`,
);

// 2. sharp's runtime: its JS, its three runtime dependencies, and the native pair per architecture.
const sharpDir = packageDir('sharp');
const sharpPkg = readJson(join(sharpDir, 'package.json'));
const optional = sharpPkg.optionalDependencies ?? {};
const nativeFor = (arch) => [`@img/sharp-linux-${arch}`, `@img/sharp-libvips-linux-${arch}`];
for (const name of [...nativeFor('x64'), ...nativeFor('arm64')]) {
  if (!optional[name]) throw new Error(`sharp ${sharpPkg.version} does not list ${name}`);
}

/** arm64 binaries are not installed on this x64 machine: fetch them once with npm. */
async function arm64Packages() {
  const key = nativeFor('arm64')
    .map((n) => `${n.replace('/', '+')}@${optional[n]}`)
    .join('_');
  const target = join(cacheDir, key);
  if (existsSync(join(target, 'node_modules', '@img', 'sharp-linux-arm64', 'package.json'))) return target;
  console.log(
    `fetch   ${nativeFor('arm64')
      .map((n) => `${n}@${optional[n]}`)
      .join(' ')}`,
  );
  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'marquee-arm64-'));
  try {
    // npm refuses the arm64 packages as direct installs on x64 (EBADPLATFORM), but
    // --os/--cpu/--libc steer which of sharp's optional dependencies it picks.
    // The npm_config_* variables of the surrounding `npm run -w` are not passed on.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    execFileSync(
      'npm',
      [
        'install',
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--os=linux',
        '--cpu=arm64',
        '--libc=glibc',
        '--prefix',
        work,
        `sharp@${sharpPkg.version}`,
      ],
      { cwd: work, env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    for (const n of nativeFor('arm64')) {
      if (!existsSync(join(work, 'node_modules', n, 'package.json'))) throw new Error(`npm did not install ${n}`);
    }
    await rm(target, { recursive: true, force: true });
    await mkdir(join(target, 'node_modules'), { recursive: true });
    await cp(join(work, 'node_modules', '@img'), join(target, 'node_modules', '@img'), { recursive: true });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return target;
}
const arm64Root = await arm64Packages();

/** Every file under dir (following no symlinks), skipping type declarations and sources. */
function walk(dir, skip = () => false) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (skip(full, entry)) continue;
    if (entry.isDirectory()) out.push(...walk(full, skip));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
const notRuntime = (full) => /\.d\.[cm]?ts$|\.map$|\.md$/.test(full);

const modules = [
  [
    'sharp',
    sharpDir,
    (full, e) =>
      notRuntime(full) || (e.isDirectory() && ['src', 'install', 'lib'].includes(e.name) && dirname(full) === sharpDir),
  ],
  ['@img/colour', packageDir('@img/colour', sharpDir), notRuntime],
  ['detect-libc', packageDir('detect-libc', sharpDir), notRuntime],
  ['semver', packageDir('semver', sharpDir), notRuntime],
  ...nativeFor('x64').map((n) => [n, packageDir(n, sharpDir), notRuntime]),
  ...nativeFor('arm64').map((n) => [n, join(arm64Root, 'node_modules', n), notRuntime]),
];
for (const [name, dir] of modules) {
  const version = readJson(join(dir, 'package.json')).version;
  if (optional[name] && optional[name] !== version)
    throw new Error(`${name} is ${version}, sharp wants ${optional[name]}`);
}

// 3. The zip: fixed timestamps so an unchanged input gives an identical artefact.
const mtime = new Date('2024-01-01T00:00:00Z');
const zip = new yazl.ZipFile();
zip.addFile(bundleFile, 'index.mjs', { mtime, mode: 0o100644 });
for (const chunk of chunks) zip.addFile(join(chunkDir, chunk), `chunks/${chunk}`, { mtime, mode: 0o100644 });
let files = 1 + chunks.length;
for (const [name, dir, skip] of modules) {
  for (const file of walk(dir, skip).sort()) {
    const inZip = ['node_modules', name, ...relative(dir, file).split(sep)].join('/');
    // The shared libraries are large and already dense: deflate them quickly.
    zip.addFile(file, inZip, { mtime, mode: 0o100644, compressionLevel: /\.(so|node)(\.|$)/.test(file) ? 1 : 6 });
    files++;
  }
}
await mkdir(dist, { recursive: true });
const partial = `${zipFile}.partial`;
await new Promise((resolve, reject) => {
  const out = createWriteStream(partial);
  out.on('close', resolve).on('error', reject);
  zip.outputStream.on('error', reject).pipe(out);
  zip.end();
});
await rename(partial, zipFile);
const zipBytes = statSync(zipFile).size;
console.log(
  `zip     ${relative(process.cwd(), zipFile)}  ${(zipBytes / 1024 / 1024).toFixed(1)} MiB, ${files} files  (${Math.round(performance.now() - started)} ms total)`,
);
