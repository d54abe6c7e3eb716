import t from 'tap';
import type { Format } from '@marquee/shared';
import { acceptsFormat, negotiateFormat, parseAccept } from '../../src/rules/resolve.js';
import { localeChain } from '../../src/rules/locale.js';
import { cacheControl } from '../../src/rules/cache-control.js';
import { defaultRules } from './fixtures.js';
import { ACCEPT_CASES, type NormalisedAccept } from '../../../shared/test/fixtures/accept-cases.js';

t.test('parseAccept reads media ranges and q-values', async (t) => {
  const cases: Array<[string | undefined, Array<{ range: string; q: number }>]> = [
    [undefined, []],
    ['', []],
    ['image/avif', [{ range: 'image/avif', q: 1 }]],
    [
      'image/avif;q=0.5, IMAGE/WebP ; q=0',
      [
        { range: 'image/avif', q: 0.5 },
        { range: 'image/webp', q: 0 },
      ],
    ],
    ['*/*;q=0.8', [{ range: '*/*', q: 0.8 }]],
    ['image/*;level=1;q=0.2', [{ range: 'image/*', q: 0.2 }]],
    ['image/avif;q=2', [{ range: 'image/avif', q: 1 }]], // clamped
    ['image/avif;q=-1', [{ range: 'image/avif', q: 0 }]],
    ['image/avif;q=abc', [{ range: 'image/avif', q: 1 }]], // malformed q: as if absent
    ['avif, image/, /webp, image/webp', [{ range: 'image/webp', q: 1 }]], // malformed ranges skipped
  ];
  for (const [header, expected] of cases) t.same(parseAccept(header), expected, JSON.stringify(header));
});

t.test('acceptsFormat: jpeg and png always, avif and webp only by name', async (t) => {
  const entries = parseAccept('*/*, image/*');
  t.ok(acceptsFormat(entries, 'jpeg'));
  t.ok(acceptsFormat(entries, 'png'));
  t.notOk(acceptsFormat(entries, 'avif'));
  t.notOk(acceptsFormat(entries, 'webp'));
  t.ok(acceptsFormat(parseAccept('image/webp'), 'webp'));
  t.notOk(acceptsFormat(parseAccept('image/webp;q=0'), 'webp'));
  t.ok(acceptsFormat(parseAccept('image/jpeg;q=0'), 'jpeg'), 'the fallback cannot be refused');
  t.equal(negotiateFormat(['webp', 'avif', 'jpeg'], 'image/avif,image/webp'), 'webp', 'the rules order decides');
  t.throws(() => negotiateFormat([], 'image/avif'), TypeError);
});

/** What the origin accepts, written as the CloudFront function writes it. */
function normalised(accept: string | undefined): NormalisedAccept {
  const entries = parseAccept(accept);
  const avif = acceptsFormat(entries, 'avif');
  const webp = acceptsFormat(entries, 'webp');
  if (avif && webp) return 'image/avif,image/webp';
  return avif ? 'image/avif' : webp ? 'image/webp' : 'image/jpeg';
}

t.test('the shared Accept table: the origin reads every header as the CloudFront function does', async (t) => {
  const formatLists: Format[][] = [
    ['avif', 'webp', 'jpeg'],
    ['webp', 'avif', 'png'],
    ['webp', 'jpeg'],
    ['avif', 'png'],
    ['jpeg'],
  ];
  for (const { name, accept, normalised: expected } of ACCEPT_CASES) {
    t.equal(normalised(accept), expected, name);
    // Through the CDN the origin sees only the collapsed header: it must choose what the raw header chooses.
    const direct = formatLists.map((formats) => negotiateFormat(formats, accept));
    const viaCdn = formatLists.map((formats) => negotiateFormat(formats, expected));
    t.same(viaCdn, direct, `${name}: the same format through the CDN`);
  }
});

t.test('localeChain', async (t) => {
  const cases: Array<[string | undefined, string[]]> = [
    [undefined, ['en']],
    ['en', ['en']],
    ['EN', ['EN']],
    ['fr', ['fr', 'en']],
    ['fr-CA', ['fr-CA', 'fr', 'en']],
    ['zh-Hant-TW', ['zh-Hant-TW', 'zh-Hant', 'zh', 'en']],
    ['pt-BR', ['pt-BR', 'pt', 'en']],
    ['pt-br', ['pt-br', 'pt', 'en']],
    ['pt-PT', ['pt-PT', 'pt', 'pt-BR', 'en']],
    ['en-GB', ['en-GB', 'en']],
  ];
  for (const [requested, chain] of cases) t.same(localeChain(defaultRules, requested), chain, String(requested));
  const noDefault = { ...defaultRules, localeFallback: { 'es-MX': ['es-419'] } };
  t.same(localeChain(noDefault, 'es-MX'), ['es-MX', 'es-419'], 'an explicit chain is used as written');
});

t.test('cacheControl', async (t) => {
  const full = { maxAge: 60, sMaxAge: 600, staleWhileRevalidate: 30, immutableMaxAge: 31536000 };
  t.equal(cacheControl(full, undefined, '3'), 'public, max-age=60, s-maxage=600, stale-while-revalidate=30');
  t.equal(cacheControl(full, '3', '3'), 'public, max-age=31536000, immutable');
  t.equal(cacheControl(full, '2', '3'), 'public, max-age=60, s-maxage=600, stale-while-revalidate=30');
  t.equal(cacheControl({ maxAge: 0, immutableMaxAge: 86400 }, undefined, '1'), 'public, max-age=0');
});
