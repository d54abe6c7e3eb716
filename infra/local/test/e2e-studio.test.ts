// The studio in a real browser: Debian's headless chromium driven by playwright-core (never a
// downloaded browser) against the whole embedded stack, the real Generator included. Checks that
// the current row is production (a top-10 title's tile carries the badge and is the artwork
// route's bytes), that a logo offers only its rules' formats, that a draft's badge scale changes
// the draft tile and not the current one, with the change count in the impact panel; and the
// proposals, focal point (mouse and keyboard), uploads and downloads.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { startStack } from '../stack/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
/** Renders go through cold Generator environments on two shared cores: be patient, not flaky. */
const TILE_TIMEOUT_MS = 90_000;
/** The seed's first title: a top-10 title (every third title is), with boxshots in en, fr and pt-BR. */
const TOP10_TITLE = '80000001';

/**
 * The DOM members the page functions below read. This file has no DOM lib (it runs in Node), so
 * playwright's element types do not resolve here; the page functions name what they use instead.
 */
interface PageElement {
  readonly id: string;
  readonly textContent: string | null;
  readonly parentElement: PageElement | null;
  readonly className: string;
  getAttribute(name: string): string | null;
  querySelector<E extends PageElement = PageElement>(selector: string): E | null;
  closest(selector: string): PageElement | null;
}
interface PageImage extends PageElement {
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  readonly src: string;
}
interface PageInput extends PageElement {
  readonly value: string;
}

/** A 2:3 master with features off-centre, so a focal crop visibly differs from a centre crop. */
async function master(file: string): Promise<void> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="1200">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1d3557"/><stop offset="1" stop-color="#e63946"/></linearGradient></defs>
    <rect width="800" height="1200" fill="url(#g)"/>
    <circle cx="240" cy="300" r="150" fill="#f1faee"/><circle cx="240" cy="300" r="60" fill="#e63946"/>
    <rect x="480" y="820" width="220" height="260" fill="#a8dadc"/></svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toFile(file);
}

t.test(
  'studio: current is production, drafts with their impact, proposals, focal point, uploads',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)` },
  async (t) => {
    const { chromium } = await import('playwright-core');
    const dir = await mkdtemp(path.join(tmpdir(), 'marquee-studio-e2e-'));
    const stack = await startStack({ dataDir: path.join(dir, 'data'), port: 0, logger: false, lambdaConcurrency: 2 });
    t.teardown(async () => {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    t.teardown(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const renderUrls: URL[] = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.pathname === '/v1/render' || url.pathname === '/studio/render') renderUrls.push(url);
    });
    const done = (id: string) =>
      page.waitForSelector(`#${id}[data-state="done"]`, { state: 'attached', timeout: TILE_TIMEOUT_MS });
    /**
     * The bytes a tile shows: its signed URL fetched again (the output cache answers with the
     * render the page got; its length must be the page's). The page's CSP keeps a test from
     * reading the tile's blob: URL back.
     */
    const tileBytes = async (selector: string): Promise<Buffer> => {
      const url = (await page.getAttribute(selector, 'data-url')) ?? '';
      const body = Buffer.from(await (await fetch(`${stack.url}${url}`)).arrayBuffer());
      const shownBytes = Number(await page.getAttribute(selector, 'data-bytes'));
      if (body.length !== shownBytes)
        throw new Error(`${selector} shows ${shownBytes} bytes, its URL gives ${body.length}`);
      return body;
    };

    // ---- Sign in: the first answer is the token prompt, with nothing from the catalog.
    const first = await page.goto(`${stack.url}/studio`);
    t.equal(first?.status(), 401, 'no session: 401 and the token prompt');
    t.notMatch(await page.content(), /boxshot|<script/);
    await page.fill('#token', stack.studioToken);
    await Promise.all([page.waitForURL(`${stack.url}/studio`), page.click('#signin')]);
    await page.waitForSelector('#title option', { state: 'attached' });
    const icon = await page.request.get(`${stack.url}/studio/favicon.svg`);
    t.equal(icon.headers()['content-type'], 'image/svg+xml', 'a favicon');

    // ---- A top-10 title: its current tiles are what the artwork route serves, badge included.
    await page.selectOption('#title', TOP10_TITLE);
    await done('current');
    const tile = `#current .tile[data-w="342"][data-h="513"][data-fmt="jpeg"]`;
    await page.waitForSelector(`${tile}:is(.loaded, .failed)`, { timeout: TILE_TIMEOUT_MS });
    t.equal(await page.getAttribute(tile, 'class'), 'tile loaded', `rendered: ${await page.textContent(tile)}`);
    const badges = await page.getAttribute(tile, 'data-badges');
    t.match(badges, /badges\/top10\.png/, 'the top-10 title’s current tile carries the badge');
    t.match(await page.textContent(`${tile} figcaption`), /badge top10/, 'and says so');
    const artworkUrl = (await page.getAttribute(tile, 'data-artwork-url')) ?? '';
    t.equal(artworkUrl, `/v1/artwork/boxshot/${TOP10_TITLE}/342x513.jpg?locale=en`);
    const shown = await tileBytes(tile);
    // Rendered again for the artwork route (the output cache emptied): equal bytes mean an equal spec.
    stack.app.images.clear();
    const served = await fetch(`${stack.url}${artworkUrl}`);
    t.equal(served.status, 200);
    t.equal(served.headers.get('etag'), `"${await page.getAttribute(tile, 'data-key')}"`, 'the same spec key');
    t.ok(
      Buffer.compare(Buffer.from(await served.arrayBuffer()), shown) === 0,
      `the tile is byte for byte the artwork route’s ${artworkUrl} (${shown.length} bytes)`,
    );
    const studioRender = renderUrls.find((u) => u.pathname === '/studio/render');
    t.ok(studioRender?.searchParams.has('sig') && studioRender.searchParams.has('exp'), 'through signed URLs');
    if (studioRender) {
      const reply = await page.request.get(`${stack.url}${studioRender.pathname}${studioRender.search}`);
      t.equal(reply.headers()['cache-control'], 'private, no-store', 'never cached');
    }

    // ---- A logo offers only the formats its rules allow.
    await page.selectOption('#type', 'logo');
    const logoFormats = await page.$$eval('#current-formats input', (els: PageInput[]) => els.map((el) => el.value));
    const catalog = await page.evaluate(async () => {
      const res = await fetch('/studio/api/catalog');
      return (await res.json()) as { types: Array<{ name: string; formats: string[] }> };
    });
    t.same(logoFormats, catalog.types.find((type) => type.name === 'logo')?.formats, 'only the rules’ logo formats');
    t.notOk(logoFormats.includes('jpeg'), 'no JPEG for a logo');
    await done('current');
    const logoTiles = await page.$$eval('#current .tile', (els: PageElement[]) =>
      els.map((el) => el.getAttribute('data-fmt')),
    );
    t.ok(logoTiles.length > 0 && logoTiles.every((fmt) => fmt !== 'jpeg'), 'and renders none');

    // ---- A wide type stays compact: sizes grouped, formats side by side (a billboard page once
    // stacked one tile per row, 5,880 px tall).
    await page.selectOption('#type', 'billboard');
    for (const fmt of ['avif', 'webp', 'jpeg']) await page.check(`#current-fmt-${fmt}`);
    await done('current');
    const rows = await page.$$eval('#current .size-group', (els: PageElement[]) =>
      els.map((el) => el.querySelector('.formats')?.getAttribute('class') ?? ''),
    );
    t.equal(rows.length, 4, 'one group per billboard size');
    const height = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document;
      return doc.documentElement.scrollHeight;
    });
    t.ok(height < 2600, `the billboard page is ${height} px tall with every format`);
    for (const fmt of ['avif', 'webp']) await page.uncheck(`#current-fmt-${fmt}`);

    // ---- Back to the boxshot: open the rules as a draft, change the badge's scale.
    await page.selectOption('#type', 'boxshot');
    await done('current');
    const currentKey = await page.getAttribute(tile, 'data-key');
    await page.click('#draft-open');
    await page.waitForSelector('#draft-panel');
    const draftId = (await page.getAttribute('#draft-panel', 'data-draft')) ?? '';
    t.match(page.url(), new RegExp(`\\?draft=${draftId}$`), 'the page links to the draft');
    t.match(await page.inputValue('#draft-yaml'), /^# Marquee artwork rules\./, 'the rules as written, comments kept');
    // Publishing is tested through inject (preprocessor/test/studio/publish.test.ts): here it would
    // write the repo's own rules.yaml, which this stack reads.
    t.ok(await page.isVisible('#draft-publish'), 'a publish button');
    await page.waitForSelector('#impact[data-state="done"]', { timeout: TILE_TIMEOUT_MS });
    t.equal(await page.getAttribute('#impact-changed', 'data-count'), '0', 'an untouched draft changes nothing');
    await done('compare');
    t.match(await page.textContent('#compare'), /changes none of these files/);

    const before = (await page.getAttribute('#draft-panel', 'data-draft')) ?? '';
    await page.fill('#draft-badge-0-scale', '0.4');
    await page.dispatchEvent('#draft-badge-0-scale', 'change');
    await page.waitForSelector('#draft-status[data-state="saved"]:has-text("revision")', { timeout: TILE_TIMEOUT_MS });
    t.match(
      await page.inputValue('#draft-yaml'),
      /gravity: northeast, scale: 0\.4, minWidth: 160/,
      'the form edits the YAML',
    );
    await page.waitForSelector('#compare .pair[data-status="changed"]', { timeout: TILE_TIMEOUT_MS });
    await done('compare');
    const pair = '#compare .size-group[data-size="342x513"] .pair[data-format="jpeg"]';
    const pairTiles = await page.$$eval(`${pair} .tile`, (els: PageElement[]) =>
      els.map((el) => ({
        row: el.getAttribute('data-key') ? 'render' : 'diff',
        key: el.getAttribute('data-key') ?? '',
      })),
    );
    t.equal(pairTiles.length, 3, 'current, draft and their difference');
    t.equal(pairTiles[0]?.key, currentKey, 'the compare’s current tile is the current rules’');
    t.not(pairTiles[1]?.key, currentKey, 'the draft tile is another image');
    const currentInPair = await tileBytes(`${pair} .tile:nth-child(1)`);
    const draftInPair = await tileBytes(`${pair} .tile:nth-child(2)`);
    t.ok(Buffer.compare(currentInPair, shown) === 0, 'the current tile did not change');
    t.not(Buffer.compare(draftInPair, shown), 0, 'the draft tile did');
    const changedPixels = Number(await page.getAttribute(pair, 'data-changed-pixels'));
    t.ok(
      changedPixels > 0 && changedPixels < 0.3,
      `the heat map finds the badge: ${(changedPixels * 100).toFixed(1)} % of pixels`,
    );
    await done('current');
    t.equal(await page.getAttribute(tile, 'data-key'), currentKey, 'the current row still shows production');
    t.ok(Buffer.compare(await tileBytes(tile), shown) === 0, 'byte for byte');
    t.equal(before, draftId, 'saved under the same draft id');

    await page.waitForSelector('#impact[data-state="done"] #impact-changed:not([data-count="0"])', {
      timeout: TILE_TIMEOUT_MS,
    });
    const changed = Number(await page.getAttribute('#impact-changed', 'data-count'));
    const impact = await page.evaluate(async (id: string) => {
      const res = await fetch(`/studio/api/drafts/${id}/impact`);
      return (await res.json()) as {
        changed: number;
        byType: Record<string, { changed: number }>;
        invalidations: string[];
      };
    }, draftId);
    t.ok(changed > 0, `the impact panel shows the change count (${changed})`);
    t.equal(changed, impact.changed, 'the diff’s own count');
    t.same(
      Object.entries(impact.byType)
        .filter(([, c]) => c.changed > 0)
        .map(([type]) => type),
      ['boxshot'],
      'a boxshot badge changes boxshots only',
    );
    t.ok(
      impact.invalidations.every((p) => p.startsWith('/v1/artwork/boxshot/')),
      'invalidations under boxshot only',
    );
    const live = await fetch(`${stack.url}${artworkUrl}`);
    t.equal(live.headers.get('etag'), `"${currentKey}"`, 'the artwork route still serves the rules in force');

    // A refused edit: the loader's message by line and field, and nothing saved.
    const yaml = await page.inputValue('#draft-yaml');
    await page.fill('#draft-yaml', yaml.replace('scale: 0.4', 'scale: 2'));
    await page.waitForSelector('#draft-status[data-state="invalid"]', { timeout: TILE_TIMEOUT_MS });
    t.match(await page.textContent('#draft-problem-line'), /^Line \d+, column \d+$/);
    t.equal(await page.textContent('#draft-problem-field'), '/types/boxshot/overlays/0/scale');
    await page.fill('#draft-yaml', yaml);
    await page.waitForSelector('#draft-status[data-state="saved"]', { timeout: TILE_TIMEOUT_MS });
    t.equal(await page.isVisible('#draft-problem'), false, 'the refusal goes once the text is valid again');

    // The screenshot of the workflow (README: docs/studio.png is taken from it).
    await mkdir(ARTIFACTS, { recursive: true });
    await page.waitForSelector('#impact[data-state="done"]', { timeout: TILE_TIMEOUT_MS });
    await done('compare');
    await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { scrollTop: number } | null } })
        .document;
      (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0);
      for (const selector of ['#draft-panel', '#draft-yaml']) {
        const el = doc.querySelector(selector);
        if (el) el.scrollTop = 0;
      }
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'studio.png') });

    // The shared link opens the draft in another tab.
    const shared = await context.newPage();
    await shared.goto(`${stack.url}/studio?draft=${draftId}`);
    await shared.waitForSelector(`#draft-panel[data-draft="${draftId}"]`);
    t.match(await shared.inputValue('#draft-yaml'), /scale: 0\.4/, 'a shared link opens the saved draft');
    await shared.close();
    await page.click('#draft-close');
    t.equal(await page.$('#draft-panel'), null, 'closed');

    // ---- Upload a master; propose sizes; a focal point by mouse and by keyboard.
    const file = path.join(dir, 'poster-master.jpg');
    await master(file);
    await page.setInputFiles('#upload-file', file);
    await page.locator('#upload-status', { hasText: /^Staged as/ }).waitFor({ timeout: TILE_TIMEOUT_MS });
    t.match((await page.textContent('#upload-status')) ?? '', /staging\/[0-9a-f]{32}\.jpg \(800×1200 jpeg\)/);
    for (const size of ['300x450', '342x513']) {
      await page.fill('#size-input', size);
      await page.click('#size-add');
    }
    await page.check('#fmt-webp');
    const preview = await page.waitForSelector('#source-preview[data-source^="staging/"]', {
      state: 'attached',
      timeout: TILE_TIMEOUT_MS,
    });
    await page.waitForFunction(
      (img) => {
        const el = img as unknown as { complete: boolean; naturalWidth: number };
        return el.complete && el.naturalWidth > 0;
      },
      preview,
      { timeout: TILE_TIMEOUT_MS },
    );
    const box = await page.locator('#source-preview').boundingBox();
    if (!box) throw new Error('the source preview has no box');
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.25);
    const focalOf = async () => {
      const m = /^Focal point ([\d.]+), ([\d.]+)/.exec((await page.textContent('#focal-info')) ?? '');
      return { x: Number(m?.[1]), y: Number(m?.[2]) };
    };
    const clicked = (await focalOf()).x;
    const at = await focalOf();
    t.ok(
      Math.abs(at.x - 0.3) < 0.02 && Math.abs(at.y - 0.25) < 0.02,
      `a click sets the focal point (${at.x}, ${at.y})`,
    );
    await page.focus('#preview-frame');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    const keyed = (await focalOf()).x;
    t.ok(Math.abs(keyed - (clicked + 0.11)) < 0.002, `arrow keys move it: ${clicked} → ${keyed}`);
    await page.selectOption('#type', 'billboard');
    t.match(
      (await page.textContent('#focal-info')) ?? '',
      new RegExp(`^Focal point ${keyed.toFixed(3)}`),
      'kept across a type switch',
    );
    await page.selectOption('#type', 'boxshot');

    await done('proposed');
    await done('current');
    const tiles = await page.$$eval('#proposed .tile, #current .tile', (els: PageElement[]) =>
      els.map((el) => {
        const img = el.querySelector<PageImage>('img');
        return {
          row: el.closest('.tiles')?.id,
          asked: `${el.getAttribute('data-w')}x${el.getAttribute('data-h')}`,
          fmt: el.getAttribute('data-fmt'),
          notAllowed: el.className.includes('not-allowed'),
          natural: img ? `${img.naturalWidth}x${img.naturalHeight}` : `failed: ${el.textContent}`,
          caption: el.querySelector('figcaption')?.textContent ?? '',
        };
      }),
    );
    const proposed = tiles.filter((x) => x.row === 'proposed');
    t.same(
      proposed.map((x) => `${x.asked} ${x.fmt} ${x.notAllowed ? 'not allowed' : 'allowed'}`),
      ['300x450 jpeg not allowed', '300x450 webp not allowed', '342x513 jpeg allowed', '342x513 webp allowed'],
      'grouped by size, formats side by side; a size the rules snap is marked',
    );
    for (const x of proposed) t.equal(x.natural, x.asked, `proposed ${x.asked} ${x.fmt}: the size asked`);
    const uploadCurrent = tiles.filter((x) => x.row === 'current');
    t.ok(uploadCurrent.length > 0, 'the upload under the current rules');
    for (const x of uploadCurrent) {
      t.match(x.caption, /no badge/, `current ${x.asked}: an upload is resolved as a title without flags`);
    }
    const focal = renderUrls.filter((u) => u.pathname === '/v1/render' && u.searchParams.has('fx'));
    t.ok(focal.length > 0, 'proposals were rendered with the focal point');

    // ---- Downloads: a zip of the renders and a contact sheet, both built in the page.
    const [zipDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
    const zipBytes = await readFile((await zipDownload.path()) ?? '');
    t.equal(zipBytes.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004', 'the zip is a zip');
    t.match(zipBytes.toString('latin1'), /proposed\/342x513\.jpg/);
    const [sheetDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-sheet')]);
    const sheet = await sharp(await readFile((await sheetDownload.path()) ?? '')).metadata();
    t.equal(sheet.format, 'png', 'the contact sheet is a PNG');

    // ---- A refused upload is shown as an error.
    const bogus = path.join(dir, 'not-an-image.jpg');
    await writeFile(bogus, 'this is text, not a JPEG');
    await page.setInputFiles('#upload-file', bogus);
    await page.waitForSelector('#upload-status.error[role="alert"]', { timeout: TILE_TIMEOUT_MS });
    t.match(await page.textContent('#upload-status'), /^Upload refused: /);

    t.same(pageErrors, [], 'no script errors in the page');
  },
);
