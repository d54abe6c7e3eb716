import t from 'tap';
import { parseCatalog } from '../../src/rules/load.js';
import { derivativeUrls, type DerivativeUrl } from '../../src/rules/universe.js';
import { startHarness } from '../studio/harness.js';
import { CATALOG_DOC, SOURCES_BUCKET, defaultRules } from './fixtures.js';

const catalog = parseCatalog(JSON.stringify(CATALOG_DOC), 'catalog.json');
const all = derivativeUrls(defaultRules, catalog, { sourcesBucket: SOURCES_BUCKET });

t.test('one URL per image per locale spelling, each canonical and listed once', async (t) => {
  const paths = all.map((u) => u.path);
  t.equal(new Set(paths).size, paths.length, 'no path twice');
  for (const u of all) {
    if (
      !/^\/v1\/artwork\/[a-z-]+\/\d+\/\d+x\d+(@[23]x)?\.(jpg|webp|avif|png|auto)(\?locale=[A-Za-z-]+)?$/.test(u.path)
    ) {
      t.fail(`not canonical: ${u.path}`);
    }
  }
  // 80000002: boxshot only, in en and pt. URL locales: none, the catalog's (en, pt-BR, fr, pt) and
  // the rules' explicit chain pt-PT, each served what its chain finds; 9 sizes × DPRs, 3 formats + auto.
  const quiet = all.filter((u) => u.titleId === '80000002');
  t.equal(quiet.length, 6 * 9 * 4);
  t.same(
    [...new Set(quiet.map((u) => `${u.path.split('?')[1] ?? ''}→${u.locale}`))],
    ['→en', 'locale=en→en', 'locale=fr→en', 'locale=pt-BR→pt', 'locale=pt→pt', 'locale=pt-PT→pt'],
    'each locale spelling with the catalog locale it is served',
  );
  t.same(
    [...new Set(quiet.filter((u) => u.requestLocale === 'pt').map((u) => `${u.width}x${u.height}@${u.dpr}`))],
    [
      '171x256@1',
      '342x513@1',
      '684x1026@1',
      '171x256@2',
      '342x513@2',
      '684x1026@2',
      '171x256@3',
      '342x513@3',
      '684x1026@3',
    ],
  );
  // 80000004 has French boxshot art only: the default chain (en) finds nothing, so no bare URL.
  const french = all.filter((u) => u.titleId === '80000004');
  t.ok(french.length > 0);
  t.ok(
    french.every((u) => u.locale === 'fr' && u.requestLocale === 'fr'),
    'only ?locale=fr URLs (no fallback reaches fr)',
  );
});

t.test('an auto URL is the set of formats it can negotiate', async (t) => {
  const auto = all.find((u) => u.path === '/v1/artwork/boxshot/80000001/342x513.auto') as DerivativeUrl;
  t.ok(auto);
  t.same(
    auto.variants?.map((v) => v.format),
    ['avif', 'webp', 'jpeg'],
  );
  const explicit = (ext: string) => all.find((u) => u.path === `/v1/artwork/boxshot/80000001/342x513.${ext}`);
  t.equal(auto.key, [explicit('avif')?.key, explicit('webp')?.key, explicit('jpg')?.key].join('+'));
  // Logos allow no JPEG: a client taking neither AVIF nor WebP gets PNG (the last format).
  const logo = all.find((u) => u.path === '/v1/artwork/logo/80000001/300x100.auto');
  t.same(
    logo?.variants?.map((v) => v.format),
    ['avif', 'webp', 'png'],
  );
});

t.test('filters: title, type and served locale', async (t) => {
  const opts = { sourcesBucket: SOURCES_BUCKET };
  const one = derivativeUrls(defaultRules, catalog, { ...opts, filter: { titleId: '80000001', type: 'logo' } });
  t.ok(one.length > 0);
  t.ok(one.every((u) => u.titleId === '80000001' && u.type === 'logo'));
  t.same(derivativeUrls(defaultRules, catalog, { ...opts, filter: { titleId: 'nope' } }), []);
  const french = derivativeUrls(defaultRules, catalog, { ...opts, filter: { locale: 'FR' } });
  t.same([...new Set(french.map((u) => u.titleId))].sort(), ['80000001', '80000004']);
  t.ok(french.every((u) => u.locale === 'fr'));
});

t.test('the artwork route serves each URL as listed: canonical, and with the listed key as its ETag', async (t) => {
  // The studio harness: the shipped rules and a one-title catalog, the real app, no Generator (a
  // 304 is answered before any render).
  const h = await startHarness();
  t.teardown(() => h.close());
  const { rules, catalog } = h.app.rulesPoller.current();
  const urls = derivativeUrls(rules, catalog, { sourcesBucket: h.app.config.sourcesBucket });
  t.equal(urls.length, 5 * 9 * 4, 't1 boxshot: none, en, fr, pt-BR, pt-PT × 9 sizes × 4');
  const accept: Record<string, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg' };
  let checked = 0;
  for (const u of urls) {
    const variants = u.variants ?? [{ format: u.format, key: u.key }];
    for (const v of variants) {
      const res = await h.app.inject({
        method: 'GET',
        url: u.path,
        headers: { 'if-none-match': `"${v.key}"`, accept: accept[v.format] ?? '*/*' },
      });
      if (res.statusCode !== 304) t.fail(`${u.path} (${v.format}): ${res.statusCode} ${String(res.headers.etag)}`);
      else checked += 1;
    }
  }
  t.equal(checked, 5 * 9 * (3 + 3), 'every URL (and each format of every auto URL) answered 304 to its listed key');
  // The check can fail: another key is not the route's ETag (the route goes on to render, and with no
  // Generator here that is an error, not a 304).
  const first = urls[0] as DerivativeUrl;
  const other = await h.app.inject({
    method: 'GET',
    url: first.path,
    headers: { 'if-none-match': `"${'0'.repeat(32)}"` },
  });
  t.not(other.statusCode, 304, 'a key the route does not compute is not answered 304');

  // Non-canonical spellings are sent (308) to a listed path, spelled as listed.
  const paths = new Set(urls.map((u) => u.path));
  for (const spelling of [
    '/v1/artwork/boxshot/t1/342x513@1x.jpeg?locale=fr',
    '/v1/artwork/boxshot/t1/300.webp?locale=pt-BR',
    '/v1/artwork/boxshot/t1/684.auto',
  ]) {
    const res = await h.app.inject({ method: 'GET', url: spelling });
    t.equal(res.statusCode, 308, spelling);
    t.ok(paths.has(String(res.headers.location)), `${spelling} → ${String(res.headers.location)} is listed`);
  }
});
