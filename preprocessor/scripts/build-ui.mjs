#!/usr/bin/env node
// Bundles the studio's browser code (preprocessor/studio-ui) with esbuild into
// preprocessor/dist/studio-ui/{app.js,app.css}, which the studio plugin serves.
// Run after `tsc -b` (npm run build:ui -w preprocessor). The Preprocessor can also call
// bundleStudioUi() itself when the files are missing and esbuild is installed (dev, tests).
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
export const ENTRY = path.join(root, 'studio-ui', 'main.ts');
export const OUT_DIR = path.join(root, 'dist', 'studio-ui');

/** { 'app.js': Buffer, 'app.css': Buffer } built in memory. */
export async function bundleStudioUi() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: ENTRY },
    bundle: true,
    write: false,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outdir: OUT_DIR,
    logLevel: 'silent',
  });
  const files = {};
  for (const file of result.outputFiles) files[path.basename(file.path)] = Buffer.from(file.contents);
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await bundleStudioUi();
  await mkdir(OUT_DIR, { recursive: true });
  for (const [name, body] of Object.entries(files)) {
    await writeFile(path.join(OUT_DIR, name), body);
    console.log(`studio-ui: ${path.relative(root, path.join(OUT_DIR, name))} ${body.length} bytes`);
  }
}
