import t from 'tap';
import { canonicalLocale, parseArtworkFile } from '../src/routes/artwork-url.js';
import { startHarness } from './studio/harness.js';
import { generatorDouble } from './studio/generator-double.js';

/**
 * One image, one URL: the case of the extension and of the locale tag does not make another cache
 * entry. Every other spelling is a 308 to the canonical one, which answers 200 itself.
 */

const double = generatorDouble();
const h = await startHarness({ lambda: double.lambda });
t.teardown(() => h.close());
const get = (url: string) => h.app.inject({ method: 'GET', url });

t.test('locale tags in their conventional case; only the case changes', async (t) => {
  const cases: Array<[string, string]> = [
    ['pt-br', 'pt-BR'],
    ['PT-BR', 'pt-BR'],
    ['pt-BR', 'pt-BR'],
    ['EN', 'en'],
    ['zh-hant-tw', 'zh-Hant-TW'],
    ['ZH-HANT', 'zh-Hant'],
    ['es-419', 'es-419'],
    ['de-CH-1901', 'de-CH-1901'],
    ['sl-ROZAJ', 'sl-rozaj'],
    ['en-US-X-TWAIN', 'en-US-x-twain'],
    ['en-a-BC', 'en-a-bc'],
    // No alias replaced: a catalog keyed `iw` still matches.
    ['IW', 'iw'],
  ];
  for (const [given, canonical] of cases) t.equal(canonicalLocale(given), canonical, given);
});

t.test('the extension parses in any case; the size does not', async (t) => {
  t.equal(parseArtworkFile('342x513.JPG').ext, 'jpg');
  t.equal(parseArtworkFile('342x513.Jpeg').ext, 'jpg');
  t.equal(parseArtworkFile('342x513@2x.WEBP').ext, 'webp');
  t.equal(parseArtworkFile('342x513.AUTO').ext, 'auto');
  t.throws(() => parseArtworkFile('342X513.jpg'), { code: 'INVALID_PARAMETER' });
  t.throws(() => parseArtworkFile('342x513.GIF'), { code: 'INVALID_PARAMETER' });
});

t.test('other spellings 308 to the canonical URL in one hop, which answers itself', async (t) => {
  const cases: Array<[string, string]> = [
    ['/v1/artwork/boxshot/t1/342x513.JPG', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/342x513.Jpg', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/342x513.JPEG', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/342x513@2x.WebP', '/v1/artwork/boxshot/t1/342x513@2x.webp'],
    ['/v1/artwork/boxshot/t1/342x513.jpg?locale=pt-br', '/v1/artwork/boxshot/t1/342x513.jpg?locale=pt-BR'],
    ['/v1/artwork/boxshot/t1/342x513.jpg?locale=FR&v=1', '/v1/artwork/boxshot/t1/342x513.jpg?locale=fr&v=1'],
    ['/v1/artwork/boxshot/t1/342x513.auto?locale=EN-gb', '/v1/artwork/boxshot/t1/342x513.auto?locale=en-GB'],
    // Both at once, and a snap too: still one hop.
    ['/v1/artwork/boxshot/t1/300.JPG?v=3&locale=pt-br', '/v1/artwork/boxshot/t1/342x513.jpg?locale=pt-BR&v=3'],
  ];
  for (const [from, to] of cases) {
    const before = double.invocations.length;
    const res = await get(from);
    t.equal(double.invocations.length, before, `${from}: a redirect renders nothing`);
    t.equal(res.statusCode, 308, from);
    t.equal(res.headers.location, to, from);
    t.match(res.headers['cache-control'], /max-age=/, `${from}: the redirect may be cached`);
    const landed = await get(to);
    t.equal(landed.statusCode, 200, `${to} answers itself`);
  }
});

t.test('the canonical spellings are served, not redirected', async (t) => {
  const res = await get('/v1/artwork/boxshot/t1/342x513.jpg?locale=pt-BR');
  t.equal(res.statusCode, 200);
  // t1 has no pt-BR artwork: the chain pt-BR → pt → en finds en.
  t.equal(res.headers['x-artwork-locale'], 'en');
  const fr = await get('/v1/artwork/boxshot/t1/342x513.jpg?locale=fr');
  t.equal(fr.statusCode, 200);
  t.equal(fr.headers['x-artwork-locale'], 'fr');
  t.equal((await get('/v1/artwork/boxshot/t1/342x513.jpg')).statusCode, 200);
});
