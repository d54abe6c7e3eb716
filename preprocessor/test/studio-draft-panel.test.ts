// The studio's draft panel in a real browser (Debian's headless chromium driven by playwright-core,
// never a downloaded browser) against the Preprocessor of the studio tests, no Generator: while the
// text on screen is not the saved draft (being edited, or refused by the rules loader) Publish is
// disabled, and a refusal names its field once, beside the loader's detail; counts read as English
// (the harness catalog holds one title).
import t from 'tap';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { problemDetail } from '../studio-ui/problem.js';
import { counted, publishEffect } from '../studio-ui/words.js';
import { STUDIO_TOKEN, startHarness } from './studio/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const SCALE_FIELD = '/types/boxshot/overlays/0/scale';

t.test('problemDetail: the loader message without the draft and the field the panel shows', async (t) => {
  const id = '0123456789abcdef';
  t.equal(
    problemDetail({
      message: `draft ${id}: ${SCALE_FIELD}: expected a fraction in (0, 1], got 2`,
      field: SCALE_FIELD,
      line: 40,
      column: 16,
    }),
    'expected a fraction in (0, 1], got 2',
  );
  t.equal(
    problemDetail({ message: `draft ${id}: YAML syntax error at line 3, column 1: bad indentation`, line: 3 }),
    'YAML syntax error at line 3, column 1: bad indentation',
    'no field: only the draft goes',
  );
  t.equal(
    problemDetail({ message: `draft ${id}: /: version must be 1`, field: '/' }),
    'version must be 1',
    'the root field',
  );
  t.equal(
    problemDetail({ message: 'something else: /types: x', field: '/types/boxshot' }),
    'something else: /types: x',
    'a message in another shape is shown whole',
  );
});

t.test('counted and publishEffect: one thing in the singular, any other count in the plural', async (t) => {
  t.equal(counted(1, 'title'), '1 title');
  t.equal(counted(0, 'title'), '0 titles');
  t.equal(counted(12345, 'image'), '12,345 images');
  t.equal(counted(2, 'box', 'boxes'), '2 boxes');
  t.equal(publishEffect({ changed: 1, added: 1, removed: 1 }), '1 URL changes, 1 is added and 1 removed.');
  t.equal(publishEffect({ changed: 0, added: 2, removed: 0 }), '0 URLs change, 2 are added and 0 removed.');
});

t.test(
  'draft panel: Publish waits for a saved, valid text; a refusal names its field once',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)` },
  async (t) => {
    const { chromium } = await import('playwright-core');
    // The bundle of the sources under test, whatever preprocessor/dist/studio-ui holds.
    const script = (await import(new URL('../scripts/build-ui.mjs', import.meta.url).href)) as {
      bundleStudioUi(): Promise<Record<'app.js' | 'app.css', Buffer>>;
    };
    const bundle = await script.bundleStudioUi();
    const h = await startHarness();
    t.teardown(() => h.close());
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    t.teardown(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.route('**/studio/assets/app.js', (route) =>
      route.fulfill({ body: bundle['app.js'], contentType: 'text/javascript; charset=utf-8' }),
    );
    await page.route('**/studio/assets/app.css', (route) =>
      route.fulfill({ body: bundle['app.css'], contentType: 'text/css; charset=utf-8' }),
    );

    await page.goto(`${url}/studio`);
    await page.fill('#token', STUDIO_TOKEN);
    await Promise.all([page.waitForURL(`${url}/studio`), page.click('#signin')]);
    await page.waitForSelector('#title option', { state: 'attached' });
    await page.click('#draft-open');
    await page.waitForSelector('#draft-status[data-state="saved"]');
    t.equal(await page.isEnabled('#draft-publish'), true, 'a saved draft can be published');
    await page.waitForSelector('#impact[data-state="done"]');
    t.match(await page.textContent('#impact'), /Every canonical artwork URL of 1 title \(/, 'one title, singular');

    const yaml = await page.inputValue('#draft-yaml');
    // The boxshot's top-10 badge (the first overlay of the shipped rules), twice the image's width.
    const refused = yaml.replace('scale: 0.22,', 'scale: 2,');
    t.not(refused, yaml, 'the badge scale set to 2');
    await page.fill('#draft-yaml', refused);
    t.equal(await page.isDisabled('#draft-publish'), true, 'edited, not saved yet: Publish waits');
    await page.waitForSelector('#draft-status[data-state="invalid"]');
    t.equal(await page.isDisabled('#draft-publish'), true, 'refused by the loader: Publish stays disabled');
    t.equal(await page.textContent('#draft-problem-field'), SCALE_FIELD);
    const shown = (await page.textContent('#draft-problem')) ?? '';
    t.equal(shown.split(SCALE_FIELD).length - 1, 1, `the field is named once: ${shown}`);
    t.match(
      await page.textContent('#draft-problem-detail', { timeout: 2000 }),
      /^expected a fraction in \(0, 1\], got 2/,
    );

    await page.fill('#draft-yaml', yaml);
    await page.waitForSelector('#draft-status[data-state="saved"]');
    t.equal(await page.isEnabled('#draft-publish'), true, 'the saved text back: Publish again');
    t.same(pageErrors, [], 'no page errors');
  },
);
