// The studio in a real browser: Debian's headless chromium driven by playwright-core (never a
// downloaded browser) against the whole embedded stack. Signs in, uploads a master, proposes a
// size, clicks a focal point, and checks every tile is exactly the size asked.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { startStack } from '../stack/stack.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
/** Renders go through cold Generator environments on two shared cores: be patient, not flaky. */
const TILE_TIMEOUT_MS = 90_000;

/**
 * The DOM members the page functions below read. This file has no DOM lib (it runs in Node), so
 * playwright's element types do not resolve here; the page functions name what they use instead.
 */
interface PageElement {
  readonly id: string;
  readonly textContent: string | null;
  readonly parentElement: PageElement | null;
  getAttribute(name: string): string | null;
  querySelector<E extends PageElement = PageElement>(selector: string): E | null;
}
interface PageImage extends PageElement {
  readonly naturalWidth: number;
  readonly naturalHeight: number;
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
  'studio: sign in, upload, propose a size, set a focal point, tiles at the sizes asked',
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
    const context = await browser.newContext({ viewport: { width: 1440, height: 1100 }, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const renderUrls: URL[] = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.pathname === '/v1/render') renderUrls.push(url);
    });

    // Sign in: the first answer is the token prompt, with nothing from the catalog.
    const first = await page.goto(`${stack.url}/studio`);
    t.equal(first?.status(), 401, 'no session: 401 and the token prompt');
    t.notMatch(await page.content(), /boxshot|<script/);
    await page.fill('#token', stack.studioToken);
    await Promise.all([page.waitForURL(`${stack.url}/studio`), page.click('#signin')]);
    await page.waitForSelector('#title option', { state: 'attached' });

    // Upload a master.
    const file = path.join(dir, 'poster-master.jpg');
    await master(file);
    await page.setInputFiles('#upload-file', file);
    await page.locator('#upload-status', { hasText: /^Staged as/ }).waitFor({ timeout: TILE_TIMEOUT_MS });
    const status = (await page.textContent('#upload-status')) ?? '';
    t.match(status, /staging\/[0-9a-f]{32}\.jpg \(800×1200 jpeg\)/, 'staged under a fresh key');

    // Propose sizes.
    for (const size of ['300x450', '400x225']) {
      await page.fill('#size-input', size);
      await page.click('#size-add');
    }
    t.same(
      await page.$$eval('#sizes li[data-size]', (els: PageElement[]) => els.map((el) => el.getAttribute('data-size'))),
      ['300x450', '400x225'],
    );

    // Formats: JPEG is on by default; add WebP.
    await page.check('#fmt-webp');

    // Click a focal point on the source preview (upper left, on the white disc).
    // A function, not a string: the page's CSP forbids eval. (This file has no DOM lib, hence the cast.)
    // The preview of the upload itself (not the title shown before it).
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
    t.match(
      (await page.textContent('#focal-info')) ?? '',
      /^Focal point 0\.3\d*, 0\.2\d*/,
      'the click sets the focal point',
    );

    // Wait for both rows: the proposal and the current rules, rendered for the focal point.
    await page.waitForSelector('#proposed[data-state="done"]', { state: 'attached', timeout: TILE_TIMEOUT_MS });
    await page.waitForSelector('#rules[data-state="done"]', { state: 'attached', timeout: TILE_TIMEOUT_MS });
    const tiles = await page.$$eval('#proposed .tile, #rules .tile', (els: PageElement[]) =>
      els.map((el) => {
        const img = el.querySelector<PageImage>('img');
        return {
          row: el.parentElement?.id,
          asked: `${el.getAttribute('data-w')}x${el.getAttribute('data-h')}`,
          fmt: el.getAttribute('data-fmt'),
          natural: img ? `${img.naturalWidth}x${img.naturalHeight}` : `failed: ${el.textContent}`,
          caption: el.querySelector('figcaption')?.textContent ?? '',
        };
      }),
    );
    const proposed = tiles.filter((tile) => tile.row === 'proposed');
    const rules = tiles.filter((tile) => tile.row === 'rules');
    t.same(
      proposed.map((tile) => `${tile.asked} ${tile.fmt}`),
      ['300x450 jpeg', '400x225 jpeg', '300x450 webp', '400x225 webp'],
      'one tile per proposed size and format',
    );
    t.ok(rules.length > 0, 'the current rules sizes are shown alongside');
    for (const tile of tiles) {
      t.equal(tile.natural, tile.asked, `${tile.row} ${tile.asked} ${tile.fmt}: natural size is the size asked`);
      t.match(
        tile.caption,
        new RegExp(`^${tile.asked.replace('x', '×')} · ${tile.fmt} · [\\d.]+ (B|kB|MB)$`),
        `${tile.row} ${tile.asked} ${tile.fmt}: caption shows size, format, bytes`,
      );
    }
    const focal = renderUrls.filter((url) => url.searchParams.get('w') === '300' && url.searchParams.has('fx'));
    t.ok(focal.length > 0, 'tiles were rendered with the focal point');
    t.ok(
      focal.every((url) => url.searchParams.has('sig') && url.searchParams.has('exp')),
      'through signed, expiring URLs',
    );

    // Downloads: a zip of the renders and a contact sheet, both built in the page.
    const [zipDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-zip')]);
    const zipBytes = await readFile((await zipDownload.path()) ?? '');
    t.equal(zipBytes.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004', 'the zip is a zip');
    t.match(zipBytes.toString('latin1'), /proposed\/300x450\.jpg/);
    const [sheetDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-sheet')]);
    const sheet = await sharp(await readFile((await sheetDownload.path()) ?? '')).metadata();
    t.equal(sheet.format, 'png', 'the contact sheet is a PNG');

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'studio.png'), fullPage: true });

    // A catalog title: switch locales, and the tiles follow the locale's source.
    await page.uncheck('#fmt-webp');
    // A title whose boxshot comes in several locales, from the API the page itself uses.
    const catalog = await page.evaluate(async () => {
      const res = await fetch('/studio/api/catalog');
      return (await res.json()) as { titles: Array<{ id: string; artwork: Record<string, Record<string, unknown>> }> };
    });
    const multi =
      catalog.titles.find((title) => Object.keys(title.artwork.boxshot ?? {}).length > 1) ?? catalog.titles[0];
    await page.selectOption('#title', multi?.id ?? '');
    await page.waitForSelector('#proposed[data-state="done"]', { state: 'attached', timeout: TILE_TIMEOUT_MS });
    const locales = await page.$$eval('#locales button', (els: PageElement[]) =>
      els.map((el) => el.getAttribute('data-locale') ?? ''),
    );
    t.ok(locales.length > 0, `the title's locales are offered (${locales.join(', ')})`);
    const other = locales.find((locale) => !/^en/i.test(locale));
    if (other) {
      const before = renderUrls.length;
      await page.click(`#locales button[data-locale="${other}"]`);
      await page.waitForSelector('#proposed[data-state="done"]', { state: 'attached', timeout: TILE_TIMEOUT_MS });
      await page.waitForSelector('#rules[data-state="done"]', { state: 'attached', timeout: TILE_TIMEOUT_MS });
      const signedSources = new Set(renderUrls.slice(before).map((url) => url.searchParams.get('src')));
      t.ok(signedSources.size >= 1, 'the locale was rendered');
      const sources = new Set(
        await page.$$eval('#proposed .tile, #rules .tile', (els: PageElement[]) =>
          els.map((el) => el.getAttribute('data-src')),
        ),
      );
      t.equal(sources.size, 1, 'one source for the locale');
      t.match([...sources][0], new RegExp(other, 'i'), `tiles render the ${other} artwork`);
      const sizes = await page.$$eval('#proposed .tile', (els: PageElement[]) =>
        els.map((el) => {
          const img = el.querySelector<PageImage>('img');
          return {
            asked: `${el.getAttribute('data-w')}x${el.getAttribute('data-h')}`,
            natural: img ? `${img.naturalWidth}x${img.naturalHeight}` : 'failed',
          };
        }),
      );
      for (const tile of sizes) t.equal(tile.natural, tile.asked, `${other} ${tile.asked}`);
      // The same artwork in every locale, side by side (DESIGN: "side by side across locales").
      await page.waitForSelector('#across-locales[data-state="done"]', { state: 'attached', timeout: TILE_TIMEOUT_MS });
      const across = await page.$$eval('#across-locales .tile', (els: PageElement[]) =>
        els.map((el) => {
          const img = el.querySelector<PageImage>('img');
          return {
            src: el.getAttribute('data-src') ?? '',
            asked: `${el.getAttribute('data-w')}x${el.getAttribute('data-h')}`,
            natural: img ? `${img.naturalWidth}x${img.naturalHeight}` : 'failed',
          };
        }),
      );
      t.equal(across.length, locales.length, 'one tile per locale');
      t.equal(new Set(across.map((tile) => tile.src)).size, locales.length, 'each locale its own source');
      for (const tile of across) t.equal(tile.natural, tile.asked, `${tile.src} ${tile.asked}`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'studio-locale.png'), fullPage: true });
    }
    t.same(pageErrors, [], 'no script errors in the page');
  },
);
