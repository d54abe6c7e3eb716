import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync, type Metafile } from 'esbuild';

/** The consumer's sources, relative to the repository root; `handler.ts` is the Lambda entry. */
export const CONSUMER_DIR = 'infra/aws/prewarm-consumer';
/** Where a rules file baked into the bundle lands: `/var/task` is the function's code directory. */
export const BUNDLED_RULES_PATH = '/var/task/rules.yaml';

/**
 * sharp is native and the bundle has no binaries: a consumer that reached it would fail at its
 * first import on Lambda, so bundling refuses it and names what pulled it in.
 */
export function refuseSharp(metafile: Metafile): void {
  for (const [path, input] of Object.entries(metafile.inputs)) {
    const sharp = input.imports.find((i) => /(^|[\\/])node_modules[\\/]sharp[\\/]/.test(i.path));
    if (sharp !== undefined) throw new Error(`marquee: the prewarm consumer must not load sharp (imported by ${path})`);
  }
}

/** Bundles made in this process, by repository and rules file: a test synthesising three stacks bundles once. */
const bundles = new Map<string, string>();

/**
 * The consumer's code: an esbuild bundle made while the CDK app synthesises (no Docker, no network,
 * no separate package step), so the asset's hash is the bundle's and a change in
 * `@marquee/preprocessor` or `@marquee/shared` (bundled from their `dist/`: `npm run build` comes
 * first) is a new asset. `rulesFile`, when given, is copied in as {@link BUNDLED_RULES_PATH}: the
 * rules the Preprocessor image ships, for a stack whose rules are not an S3 object.
 */
export function consumerCode(repoRoot: string, rulesFile: string | undefined): lambda.Code {
  const key = `${repoRoot}\n${rulesFile ?? ''}`;
  let dir = bundles.get(key);
  if (dir === undefined) {
    dir = bundle(join(repoRoot, CONSUMER_DIR, 'handler.ts'), rulesFile);
    bundles.set(key, dir);
  }
  return lambda.Code.fromAsset(dir);
}

function bundle(entry: string, rulesFile: string | undefined): string {
  const out = mkdtempSync(join(tmpdir(), 'marquee-prewarm-'));
  // CDK copies the asset into its output at synth, before the process ends.
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  const { metafile } = buildSync({
    entryPoints: { index: entry },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    // ESM builds of the AWS SDK tree-shake better than their CJS ones.
    mainFields: ['module', 'main'],
    metafile: true,
    // Bundled CommonJS (pino, parts of the SDK) calls require() for Node built-ins.
    banner: {
      js: "import { createRequire as __marqueeCreateRequire } from 'node:module'; const require = __marqueeCreateRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  refuseSharp(metafile);
  if (rulesFile !== undefined) copyFileSync(rulesFile, join(out, 'rules.yaml'));
  return out;
}

/**
 * The repository file behind a rules path inside the Preprocessor image (`/app/<path>`, the
 * Dockerfile's WORKDIR), so the consumer plans with the rules the Preprocessors serve.
 */
export function imageRulesFile(repoRoot: string, rules: string): string {
  const match = /^\/app\/(.+)$/.exec(rules);
  const file = match?.[1] === undefined ? undefined : join(repoRoot, match[1]);
  if (file === undefined || !existsSync(file)) {
    throw new Error(
      `marquee: the prewarm consumer needs the rules, and "${rules}" is neither s3://bucket/key nor ` +
        'a file of this repository copied into the image under /app/. Put the rules in S3 (-c rules=s3://…).',
    );
  }
  return file;
}
