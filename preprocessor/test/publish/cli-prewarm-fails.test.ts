import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runRulesCli } from './run-cli.js';
import { CATALOG_TEXT, RULES_TEXT, SOURCES_BUCKET } from '../rules/fixtures.js';

/**
 * Issue 21: a `rollback --prewarm` whose Generator could not be reached printed "254 failed" and
 * exited 0. A publish whose prewarm fails even in part exits 1, says how many images failed and
 * why (by error code), and how many changed URLs will render live, in the text and in --json.
 * Here the Generator's endpoint and the store refuse every connection (port 9, discard).
 */
const BADGE_DRAFT = RULES_TEXT.replace('scale: 0.08', 'scale: 0.1');
const dir = t.testdir({ 'rules.yaml': RULES_TEXT, 'draft.yaml': BADGE_DRAFT, 'catalog.json': CATALOG_TEXT });
const file = (name: string) => path.join(dir, name);

const rules = (...args: string[]) =>
  runRulesCli(
    {
      MARQUEE_CATALOG: file('catalog.json'),
      MARQUEE_SOURCES_BUCKET: SOURCES_BUCKET,
      MARQUEE_RELOAD_MS: '100',
      MARQUEE_DERIVATIVES_BUCKET: 'marquee-derivatives',
      MARQUEE_S3_ENDPOINT: 'http://127.0.0.1:9',
      MARQUEE_LAMBDA_ENDPOINT: 'http://127.0.0.1:9',
      MARQUEE_GENERATOR_TIMEOUT_MS: '2000',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    args,
  );

t.test('a prewarm that fails exits 1 with how many and why, in text and JSON alike', async (t) => {
  const text = await rules('publish', file('draft.yaml'), '--to', file('rules.yaml'), '--prewarm', '--author', 'a');
  t.equal(text.code, 1, `${text.stdout}\n${text.stderr}`);
  const failed = /: (\d+) images?: 0 rendered, 0 already stored, (\d+) failed/.exec(text.stdout);
  t.ok(failed, text.stdout);
  t.ok(Number(failed?.[2]) > 0, `${failed?.[2]} failed`);
  t.equal(failed?.[1], failed?.[2], 'every image of the set failed');
  t.match(text.stdout, /FAILED \d+ images?: [A-Z_]+/, 'why, by error code');
  const live = /live renders: (\d+) of (\d+) changed or added URLs will render/.exec(text.stdout);
  t.ok(live && Number(live[1]) > 0, 'the URLs left to render live');
  t.equal(await readFile(file('rules.yaml'), 'utf8'), BADGE_DRAFT, 'the rules were published all the same');

  // The same draft again is not published again (exit 0); from the old rules, --json gives the same
  // figures and the same exit code as the text.
  const json = await rules('publish', file('draft.yaml'), '--to', file('rules.yaml'), '--prewarm', '--json');
  t.equal(json.code, 0, 'nothing to publish: the rules are already in force');
  await writeFile(file('rules.yaml'), RULES_TEXT);
  const again = await rules('publish', file('draft.yaml'), '--to', file('rules.yaml'), '--prewarm', '--json');
  t.equal(again.code, 1);
  const result = JSON.parse(again.stdout) as {
    prewarm: { result: { failed: number; images: number; failures: Record<string, number>; liveUrls: number } };
  };
  t.equal(result.prewarm.result.failed, Number(failed?.[2]));
  t.same(Object.keys(result.prewarm.result.failures).length > 0, true);
  t.equal(result.prewarm.result.liveUrls, Number(live?.[1]));
});
