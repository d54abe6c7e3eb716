// Configuration has one door: a variable is read through `@marquee/shared`'s env module, declared
// in a schema with its type, default and range. A `process.env.X` elsewhere would be a variable
// nobody validates or documents.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = [
  'shared/src',
  'generator/src',
  'preprocessor/src',
  'loadtest/bench',
  'loadtest/runner',
  'infra/local/lambda',
  'infra/local/stack',
  'infra/local/seed',
  'infra/local/cdn',
  'infra/local/import',
  'infra/local/s3',
  'infra/aws/bin',
  'infra/aws/lib',
  'infra/aws/prewarm-consumer',
];
/** The env module itself: the one reader (and the one writer of a child's environment). */
const ALLOWED = new Set([
  'shared/src/env.ts',
  // Fills in local AWS credentials for the SDK clients of the embedded stack's own process.
  'infra/local/stack/env.ts',
  // The emulated Lambda runtime reading the AWS_LAMBDA_* variables Lambda gives a function.
  'infra/local/lambda/runtime-context.ts',
]);
/** `process.env`, `process['env']`, `const { env } = process`. */
const READS_ENV =
  /\bprocess\s*(?:\??\.\s*env\b|\[\s*['"`]env['"`]\s*\])|\{[^}]*\benv\b[^}]*\}\s*=\s*(?:globalThis\.)?process\b/;
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await sources(rel)));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

t.test('the pattern catches the ways of reading the environment', async (t) => {
  for (const bad of [
    'process.env.PORT',
    "process['env']",
    'process?.env',
    'const { env } = process',
    'const { env: e } = globalThis.process',
  ]) {
    t.match(bad, READS_ENV, bad);
  }
  t.notMatch('const env = childEnv({ WRK_PATHS: file })', READS_ENV);
});

t.test('no file outside the env module reads process.env', async (t) => {
  const files = (await Promise.all(SCANNED.map(sources))).flat();
  t.ok(files.length > 50, `${files.length} files scanned`);
  const offenders: string[] = [];
  for (const file of files) {
    if (ALLOWED.has(file)) continue;
    const lines = (await readFile(path.join(ROOT, file), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (READS_ENV.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  t.same(offenders, [], 'read variables through readEnv (shared/src/env.ts) and a schema; pass them on with childEnv');
});
