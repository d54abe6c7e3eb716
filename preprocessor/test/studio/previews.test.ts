import t from 'tap';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { CompareReply, Draft, Impact, PreviewReply, PreviewItem, SignReply } from '@marquee/shared';
import type { Problem } from '../../src/plugins/problem.js';
import { generatorDouble } from './generator-double.js';
import { PUBLISHED_KEY, RULES, bearer, startHarness } from './harness.js';

/**
 * Current and draft tiles through `app.inject()`, with a Generator double that draws what the spec
 * asks (badges included): a current tile is the artwork route's image, a draft tile follows the
 * draft, the heat map sees only what changed, and the impact panel's counts come from the diff.
 */
const generator = generatorDouble();
const h = await startHarness({ lambda: generator.lambda });
t.teardown(() => h.close());
const { app } = h;
const rulesText = await readFile(RULES, 'utf8');
t.beforeEach(() => {
  app.images.clear();
  generator.invocations.length = 0;
});

async function post<T>(url: string, payload: object): Promise<T> {
  const res = await app.inject({ method: 'POST', url, headers: bearer, payload });
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json<T>();
}

const boxshot = (over: Partial<PreviewItem> = {}): PreviewItem => ({
  rules: 'current',
  type: 'boxshot',
  titleId: 't1',
  locale: 'en',
  width: 342,
  height: 513,
  dpr: 1,
  format: 'jpeg',
  ...over,
});

const badgeDraft = async (scale: string): Promise<Draft> =>
  post<Draft>('/studio/api/drafts', { yaml: rulesText.replace('scale: 0.22', `scale: ${scale}`) });

t.test('a current tile is the artwork route: same spec key, same bytes, the badge, never cached', async (t) => {
  const { renders } = await post<PreviewReply>('/studio/api/previews', { renders: [boxshot()] });
  const preview = renders[0]?.preview;
  if (!preview) throw new Error(`no preview: ${JSON.stringify(renders[0])}`);
  t.equal(preview.artworkUrl, '/v1/artwork/boxshot/t1/342x513.jpg?locale=en');
  t.same(preview.badges, ['badges/top10.png'], 'a top-10 title carries the badge');
  t.equal(preview.quality, 85, 'the rules quality for JPEG in the small class (342 px), not a studio default');
  t.match(preview.url, /^\/studio\/render\?.*&exp=\d+&sig=[\w-]+$/);

  const tile = await app.inject({ method: 'GET', url: preview.url });
  t.equal(tile.statusCode, 200);
  t.equal(tile.headers['cache-control'], 'private, no-store', 'never kept by any cache');
  t.equal(tile.headers['content-type'], 'image/jpeg');
  t.equal(tile.headers['x-artwork-key'], preview.key);
  // A fresh render for the artwork route, so equal bytes mean an equal spec, not a shared cache entry.
  app.images.clear();
  const served = await app.inject({ method: 'GET', url: preview.artworkUrl ?? '' });
  t.equal(served.statusCode, 200);
  t.equal(served.headers.etag, `"${preview.key}"`, 'the artwork route names the same spec key');
  t.ok(Buffer.compare(served.rawPayload, tile.rawPayload) === 0, 'byte for byte what the artwork route serves');
  t.equal(generator.invocations.length, 2, 'two renders: the cache played no part');
  t.same(generator.invocations[0]?.spec, generator.invocations[1]?.spec, 'of one spec');
});

t.test('the current row refuses what the rules refuse, with the route’s own error', async (t) => {
  const { renders } = await post<PreviewReply>('/studio/api/previews', {
    renders: [
      boxshot({ format: 'png' }),
      boxshot({ width: 300, height: 450 }),
      boxshot({ titleId: 'nope' }),
      boxshot({ type: 'logo', width: 300, height: 100, format: 'png' }),
    ],
  });
  t.same(
    renders.map((r) => r.error?.code),
    ['FORMAT_NOT_ALLOWED', 'SIZE_NOT_ALLOWED', 'UNKNOWN_TITLE', 'ARTWORK_NOT_FOUND'],
  );
  t.match(renders[1]?.error?.message, /redirects it to 342x513\.jpg/);
  t.ok(
    renders.every((r) => r.preview === undefined),
    'and no URL to render',
  );
});

t.test('a draft tile follows the draft; the current tile and the artwork route do not', async (t) => {
  const draft = await badgeDraft('0.5');
  const { renders } = await post<PreviewReply>('/studio/api/previews', {
    draft: { id: draft.id, rev: draft.rev },
    renders: [boxshot(), boxshot({ rules: 'draft' })],
  });
  const [current, proposed] = renders.map((r) => r.preview);
  if (!current || !proposed) throw new Error('missing previews');
  t.not(proposed.key, current.key, 'another spec, another key: production never hits a draft render');
  t.match(proposed.url, new RegExp(`draft=${draft.id}&rev=${draft.rev}`));
  const a = await app.inject({ method: 'GET', url: current.url });
  const b = await app.inject({ method: 'GET', url: proposed.url });
  t.equal(b.headers['cache-control'], 'private, no-store');
  t.not(Buffer.compare(a.rawPayload, b.rawPayload), 0, 'the draft tile differs');
  const scales = generator.invocations.map((i) => i.spec.overlays?.[0]?.scale);
  t.same(scales.sort(), [0.22, 0.5], 'rendered with each rules’ badge scale');

  const served = await app.inject({ method: 'GET', url: '/v1/artwork/boxshot/t1/342x513.jpg' });
  t.equal(served.headers.etag, `"${current.key}"`, 'the artwork route still serves the rules in force');

  // Saved again: tiles signed for the old revision are refused, not shown under a new caption.
  await app.inject({
    method: 'PUT',
    url: `/studio/api/drafts/${draft.id}`,
    headers: bearer,
    payload: { yaml: rulesText.replace('scale: 0.22', 'scale: 0.6') },
  });
  const stale = await app.inject({ method: 'GET', url: proposed.url });
  t.equal(stale.statusCode, 404);
  t.match(stale.json<Problem>().detail, /saved again/);
});

t.test('signed tiles: unsigned, tampered or expired URLs are refused', async (t) => {
  const { renders } = await post<PreviewReply>('/studio/api/previews', { renders: [boxshot()] });
  const url = renders[0]?.preview?.url ?? '';
  const unsigned = url.replace(/&exp=.*$/, '');
  const tampered = url.replace('w=342', 'w=684').replace('h=513', 'h=1026');
  const expired = url.replace(/exp=\d+/, 'exp=1000');
  for (const [name, bad] of Object.entries({ unsigned, tampered, expired })) {
    const res = await app.inject({ method: 'GET', url: bad });
    t.equal(res.statusCode, 403, name);
    t.equal(res.json<Problem>().code, 'BAD_SIGNATURE', name);
  }
  t.equal(generator.invocations.length, 0, 'nothing rendered');
});

t.test('compare: the changed files of a title, with a heat map that sees only the badge', async (t) => {
  const draft = await badgeDraft('0.4');
  const reply = await post<CompareReply>('/studio/api/compare', {
    draft: { id: draft.id, rev: draft.rev },
    type: 'boxshot',
    titleId: 't1',
    locale: 'en',
    dpr: 1,
    formats: ['jpeg'],
  });
  t.equal(reply.locale, 'en');
  t.same(
    reply.items.map((i) => `${i.width}x${i.height} ${i.format} ${i.status}`),
    ['171x256 jpeg changed', '342x513 jpeg changed', '684x1026 jpeg changed'],
    'every boxshot size is past the badge’s minimum width, so each changes',
  );
  t.same(
    reply.locales.map((l) => l.locale),
    ['en', 'fr'],
    'each locale of the title counted',
  );
  for (const counts of reply.locales) {
    t.equal(counts.added + counts.removed, 0, `${counts.locale}: nothing added or removed`);
    t.ok(counts.changed > 0, `${counts.locale}: ${counts.changed} changed`);
  }
  const item = reply.items[1];
  if (!item?.diff || !item.current || !item.draft) throw new Error('a changed item has both tiles and a diff');
  const map = await app.inject({ method: 'GET', url: item.diff });
  t.equal(map.statusCode, 200);
  t.equal(map.headers['content-type'], 'image/png');
  t.equal(map.headers['cache-control'], 'private, no-store');
  const changed = Number(map.headers['x-diff-changed']);
  // The double's badge is scale × width wide and half as tall: 0.22 → 0.4 of 342 px adds about
  // (137×68 − 75×38) / (342×513) ≈ 3.7 % of the pixels, at the top right.
  t.ok(changed > 0.02 && changed < 0.08, `only the badge area differs (${changed})`);
  const meta = await sharp(map.rawPayload).metadata();
  t.match(meta, { format: 'png', width: 342, height: 513 });

  // An instrument that can fail: the same rules compare as unchanged, with no heat map.
  const same = await post<Draft>('/studio/api/drafts', { yaml: rulesText });
  const none = await post<CompareReply>('/studio/api/compare', {
    draft: { id: same.id, rev: same.rev },
    type: 'boxshot',
    titleId: 't1',
    dpr: 1,
    formats: ['jpeg', 'webp'],
  });
  t.ok(
    none.items.every((i) => i.status === 'unchanged' && i.diff === undefined && i.draft === undefined),
    'identical rules: nothing changes',
  );
});

t.test('impact: the change count over the catalog, none for identical rules', async (t) => {
  const draft = await badgeDraft('0.4');
  const res = await app.inject({
    method: 'GET',
    url: `/studio/api/drafts/${draft.id}/impact?rev=${draft.rev}`,
    headers: bearer,
  });
  t.equal(res.statusCode, 200);
  const impact = res.json<Impact>();
  t.ok(impact.changed > 0, `${impact.changed} URLs change`);
  t.equal(impact.added + impact.removed, 0);
  t.same(
    Object.keys(impact.byType).filter((type) => (impact.byType[type]?.changed ?? 0) > 0),
    ['boxshot'],
  );
  t.ok(
    impact.invalidations.length > 0 && impact.invalidations.every((p) => p.startsWith('/v1/artwork/boxshot/')),
    'invalidations under boxshot only',
  );
  t.match(impact.costBasis, /ms per image/);

  const same = await post<Draft>('/studio/api/drafts', { yaml: rulesText });
  const none = (
    await app.inject({ method: 'GET', url: `/studio/api/drafts/${same.id}/impact`, headers: bearer })
  ).json<Impact>();
  t.equal(none.changed, 0, 'identical rules change nothing');
  t.same(none.invalidations, []);
});

t.test('proposed renders: checked against the type, encoded at the rules’ quality', async (t) => {
  const reply = await post<SignReply>('/studio/api/sign', {
    type: 'logo',
    renders: [
      { src: PUBLISHED_KEY, w: 300, h: 100, fmt: 'jpeg', fit: 'cover' },
      { src: PUBLISHED_KEY, w: 300, h: 100, fmt: 'png', fit: 'contain' },
      { src: PUBLISHED_KEY, w: 300, h: 100, fmt: 'png', fit: 'contain', q: 40 },
    ],
  });
  const [jpeg, png, own] = reply.renders;
  t.equal(jpeg?.notAllowed?.length, 2, 'format and fit');
  t.match(jpeg?.notAllowed, [/format jpeg: logo allows avif, webp, png/, /fit cover: logo is fitted with contain/]);
  t.same(png?.notAllowed, [], 'a ladder size in an allowed format and fit: allowed');
  t.equal(png?.q, 100, 'the rules’ PNG quality');
  t.equal(own?.q, 40, 'a quality asked for is kept');
  const boxshotSize = await post<SignReply>('/studio/api/sign', {
    type: 'boxshot',
    renders: [{ src: PUBLISHED_KEY, w: 300, h: 450, fmt: 'webp' }],
  });
  t.match(boxshotSize.renders[0]?.notAllowed, [/size 300x450: the artwork route redirects it to 342x513/]);
  t.equal(boxshotSize.renders[0]?.q, 80, 'WebP in the small class');
  const plain = await post<SignReply>('/studio/api/sign', { renders: [{ src: PUBLISHED_KEY, w: 300, h: 450 }] });
  t.notOk(plain.renders[0]?.notAllowed, 'no type, no verdict');
  t.notOk(plain.renders[0]?.q, 'and the render route’s own default quality');
});
