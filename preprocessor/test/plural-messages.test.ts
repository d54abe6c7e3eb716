// Counts in what `npm run rules` prints read as English for one: "1 title", "1 path", "1 type".
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, plural } from '@marquee/shared';
import { CATALOG_DOC, RULES_TEXT, SOURCES_BUCKET } from './rules/fixtures.js';

const CLI = fileURLToPath(new URL('../src/cli/rules.ts', import.meta.url));
/** One title (a top-10 one with a billboard): its billboard badge grows in the draft. */
const ONE_TITLE = { ...CATALOG_DOC, titles: { '80000001': CATALOG_DOC.titles['80000001'] } };
/** The shipped rules with the boxshot alone. */
const ONE_TYPE = RULES_TEXT.replace(/\n {2}billboard:\n[\s\S]*$/, '\n');

const dir = t.testdir({
  'rules.yaml': RULES_TEXT,
  'draft.yaml': RULES_TEXT.replace('scale: 0.08', 'scale: 0.1'),
  'one-type.yaml': ONE_TYPE,
  'catalog.json': JSON.stringify(ONE_TITLE),
});
const file = (name: string) => path.join(dir, name);

async function rules(...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv({ MARQUEE_CATALOG: file('catalog.json'), MARQUEE_SOURCES_BUCKET: SOURCES_BUCKET }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number];
  return { code, stdout, stderr };
}

t.test('plural: the noun for a count', async (t) => {
  t.equal(plural(1, 'path'), 'path');
  t.equal(plural(0, 'path'), 'paths');
  t.equal(plural(2, 'path'), 'paths');
  t.equal(plural(1, 'entry', 'entries'), 'entry');
  t.equal(plural(3, 'entry', 'entries'), 'entries');
});

t.test('rules diff and check: one title, one path, one type', async (t) => {
  const diff = await rules('diff', file('rules.yaml'), file('draft.yaml'), '--catalog', file('catalog.json'));
  t.equal(diff.code, 0, diff.stderr);
  t.match(diff.stdout, /: 1 title\n/, 'one title');
  t.match(diff.stdout, /\ninvalidate: 1 path \(/, `one path: ${diff.stdout}`);
  const check = await rules('check', file('one-type.yaml'));
  t.equal(check.code, 0, check.stderr);
  t.match(check.stdout, /one-type\.yaml: ok \(1 type: boxshot\)/);
});
