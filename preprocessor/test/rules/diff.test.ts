import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import { lambdaCostUsd, type Format } from '@marquee/shared';
import { diffRules, type RulesDiff } from '../../src/rules/diff.js';
import { parseCatalog, parseRules } from '../../src/rules/load.js';
import type { Catalog, Rules } from '../../src/rules/schema.js';
import { derivativeUrls, type DerivativeUrl } from '../../src/rules/universe.js';
import { SOURCES_BUCKET, at, defaultRules, list, rulesDoc, type Doc } from './fixtures.js';

/**
 * A generated catalog: 30 titles, boxshots for all, billboards for every second, logos for every
 * third; English everywhere, French on every second title, Brazilian Portuguese on every fifth, one
 * title in French only; the first ten flagged `top10`, two also `new`; focal points on odd titles.
 */
function generatedCatalog(): Catalog {
  const titles: Record<string, unknown> = {};
  for (let i = 1; i <= 30; i += 1) {
    const id = `g${String(i).padStart(3, '0')}`;
    const locales = i === 30 ? ['fr'] : ['en', ...(i % 2 === 0 ? ['fr'] : []), ...(i % 5 === 0 ? ['pt-BR'] : [])];
    const types = ['boxshot', ...(i % 2 === 0 ? ['billboard'] : []), ...(i % 3 === 0 ? ['logo'] : [])];
    const artwork: Record<string, Record<string, unknown>> = {};
    for (const type of types) {
      artwork[type] = Object.fromEntries(
        locales.map((locale) => [
          locale,
          {
            source: `titles/${id}/${type}/${locale}.jpg`,
            version: String(1 + (i % 3)),
            ...(i % 2 === 1 ? { focal: { x: 0.4, y: 0.3 } } : {}),
          },
        ]),
      );
    }
    const flags = [...(i <= 10 ? ['top10'] : []), ...(i === 3 || i === 4 ? ['new'] : [])];
    titles[id] = { name: `Generated ${i}`, flags, artwork };
  }
  return parseCatalog(JSON.stringify({ version: 1, titles }), 'generated-catalog.json');
}

const catalog = generatedCatalog();
const TOP10 = new Set(Object.keys(catalog.titles).filter((id) => catalog.titles[id]?.flags?.includes('top10')));

/** The default rules edited as a document (through YAML and the loader, as a published file would be). */
function edited(edit: (doc: Doc) => void): Rules {
  const doc = rulesDoc();
  edit(doc);
  return parseRules(stringify(doc), 'edited-rules.yaml');
}

/** The diff in its exact mode (no wildcard over unchanged URLs), which most cases below check path by path. */
function diff(next: Rules, current: Rules = defaultRules): RulesDiff {
  return diffRules({ current, next, catalog, sourcesBucket: SOURCES_BUCKET, maxExactPathsPerTitle: Infinity });
}

/** Whether a CloudFront path pattern covers a URL path (a `*` only at the end). */
const covers = (pattern: string, path: string) =>
  pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;

const universe = (rules: Rules) => derivativeUrls(rules, catalog, { sourcesBucket: SOURCES_BUCKET });
const before = universe(defaultRules);

/**
 * The same comparison done the slow, obvious way: both universes in full, path by path. The diff
 * resolves only the types whose rules differ; this reference resolves everything.
 */
function reference(next: Rules) {
  const old = new Map(before.map((u) => [u.path, u]));
  const now = new Map(universe(next).map((u) => [u.path, u]));
  const changed = [...old].filter(([p, u]) => now.has(p) && now.get(p)?.key !== u.key).map(([p]) => p);
  const removed = [...old.keys()].filter((p) => !now.has(p));
  const added = [...now.keys()].filter((p) => !old.has(p));
  const unchanged = [...old].filter(([p, u]) => now.get(p)?.key === u.key).length;
  return { changed, removed, added, unchanged, old };
}

function agreesWithReference(t: Test, d: RulesDiff, next: Rules) {
  const ref = reference(next);
  t.same(
    { changed: d.changed, added: d.added, removed: d.removed, unchanged: d.unchanged },
    { changed: ref.changed.length, added: ref.added.length, removed: ref.removed.length, unchanged: ref.unchanged },
    'the counts of a full path-by-path comparison',
  );
  t.same([...d.changedPaths].sort(), [...ref.changed].sort(), 'the changed paths of a full comparison');
  t.same([...d.addedPaths].sort(), [...ref.added].sort(), 'the added paths of a full comparison');
  return ref;
}

/** Invalidation paths CloudFront accepts: absolute, `*` only last, at most 4,000 characters. */
function checkCloudFrontPaths(t: Test, paths: readonly string[]) {
  const bad = paths.filter((p) => !p.startsWith('/') || p.slice(0, -1).includes('*') || p.length > 4000);
  t.same(bad, [], 'valid CloudFront invalidation paths');
  t.equal(new Set(paths).size, paths.length, 'no path twice');
}

/** Each touched URL and its `v` twin (what the diff emits when the title's other URLs stay). */
function exact(urls: readonly DerivativeUrl[]): string[] {
  return urls.flatMap((u) => [u.path, `${u.path}${u.path.includes('?') ? '&' : '?'}v=${u.version}`]);
}

t.test('identical rules: nothing changes, nothing to invalidate or render', async (t) => {
  for (const next of [defaultRules, parseRules(stringify(rulesDoc()), 'copy.yaml')]) {
    const d = diff(next);
    t.match(d, { changed: 0, added: 0, removed: 0, renders: 0, renderSeconds: 0, costUsd: 0, invalidations: [] });
    t.equal(d.unchanged, before.length, 'every URL counted unchanged');
    t.equal(d.titles, 30);
    t.same(d.changedPaths, []);
  }
});

t.test('a billboard badge change: flagged titles at widths past the badge minimum, billboards only', async (t) => {
  const next = edited((doc) => {
    at(doc, 'types', 'billboard', 'overlays', 0).scale = 0.1;
  });
  const d = diff(next);
  agreesWithReference(t, d, next);
  const expected = before.filter((u) => u.type === 'billboard' && TOP10.has(u.titleId) && u.spec.width >= 640);
  t.ok(expected.length > 0);
  t.same([...d.changedPaths].sort(), expected.map((u) => u.path).sort(), 'exactly those URLs');
  t.same(Object.keys(d.byType), ['boxshot', 'billboard', 'logo']);
  t.match(d.byType, { boxshot: { changed: 0 }, billboard: { changed: expected.length }, logo: { changed: 0 } });
  t.ok(
    d.invalidations.every((p) => p.startsWith('/v1/artwork/billboard/')),
    'invalidations under billboard only',
  );
  // 480x270 (480 pixels, under the badge's 640) keeps its look: no wildcard covers a flagged title.
  t.same([...d.invalidations].sort(), exact(expected).sort(), 'each changed URL and its v twin, no wildcard');
  checkCloudFrontPaths(t, d.invalidations);
  t.ok(d.renders > 0 && d.costUsd > 0);
});

t.test('a boxshot badge change covering every size: one wildcard per flagged title', async (t) => {
  const next = edited((doc) => {
    at(doc, 'types', 'boxshot', 'overlays', 0).scale = 0.25;
  });
  const d = diff(next);
  agreesWithReference(t, d, next);
  // The top-10 badge's minimum (160 px) is under the smallest boxshot (171 px): all their URLs change.
  const flagged = [...TOP10].sort();
  t.same(
    d.invalidations,
    flagged.map((id) => `/v1/artwork/boxshot/${id}/*`),
  );
  t.equal(d.changed, before.filter((u) => u.type === 'boxshot' && TOP10.has(u.titleId)).length);
  checkCloudFrontPaths(t, d.invalidations);
});

t.test('an added size: added URLs only, nothing changed, nothing invalidated', async (t) => {
  const next = edited((doc) => {
    list(doc, 'types', 'boxshot', 'sizes').push('500x750');
  });
  const d = diff(next);
  agreesWithReference(t, d, next);
  t.match(d, { changed: 0, removed: 0, invalidations: [] });
  t.ok(d.added > 0);
  t.ok(
    d.addedPaths.every((p) => /^\/v1\/artwork\/boxshot\/g\d{3}\/500x750(@[23]x)?\.(jpg|webp|avif|auto)/.test(p)),
    'all of the new size',
  );
  // 500x750 at 1x, 2x and 3x in three formats, per title and locale artwork: renders, not URLs.
  const artworks = Object.values(catalog.titles).reduce(
    (n, title) => n + Object.keys(title.artwork.boxshot ?? {}).length,
    0,
  );
  t.equal(d.renders, artworks * 3 * 3, 'one render per new image, however many locale spellings serve it');
  t.same(d.rendersByFormat, { avif: artworks * 3, webp: artworks * 3, jpeg: artworks * 3 });
});

t.test("a quality change on one format: that format's URLs only (and the auto URLs that serve it)", async (t) => {
  const next = edited((doc) => {
    at(doc, 'encoding', 'png').quality = 90;
  });
  const d = diff(next);
  agreesWithReference(t, d, next);
  // Only logos allow PNG; their `auto` URLs serve it to clients taking neither AVIF nor WebP.
  const expected = before.filter((u) => u.format === 'png' || u.variants?.some((v) => v.format === 'png'));
  t.ok(expected.length > 0);
  t.ok(expected.every((u) => u.type === 'logo'));
  t.same([...d.changedPaths].sort(), expected.map((u) => u.path).sort());
  const pngImages = new Set(expected.filter((u) => u.format === 'png').map((u) => u.key));
  t.same(d.rendersByFormat, { png: pngImages.size }, 'one render per PNG image');
  t.ok(
    d.invalidations.every((p) => p.startsWith('/v1/artwork/logo/') && !p.endsWith('*')),
    'exact logo paths',
  );
  checkCloudFrontPaths(t, d.invalidations);
});

t.test('by default, many exact paths for a title become its wildcard, never beyond the type', async (t) => {
  const next = edited((doc) => {
    at(doc, 'encoding', 'png').quality = 90;
  });
  const exactMode = diff(next);
  const d = diffRules({ current: defaultRules, next, catalog, sourcesBucket: SOURCES_BUCKET });
  t.ok(
    d.invalidations.length < exactMode.invalidations.length,
    `${d.invalidations.length} paths, not ${exactMode.invalidations.length}`,
  );
  t.ok(
    d.invalidations.every(
      (p) => /^\/v1\/artwork\/logo\/[^/]+\/\*$/.test(p) || (p.startsWith('/v1/artwork/logo/') && !p.endsWith('*')),
    ),
    'title wildcards or exact paths, under logo only',
  );
  const uncovered = [...d.changedPaths].filter((path) => !d.invalidations.some((p) => covers(p, path)));
  t.same(uncovered, [], 'every changed URL is covered');
  t.ok(d.overInvalidated > 0, `the unchanged URLs the wildcards cover are counted (${d.overInvalidated})`);
  t.equal(exactMode.overInvalidated, 0, 'the exact mode covers no unchanged URL');
  checkCloudFrontPaths(t, d.invalidations);
});

t.test('a change that hits every URL of a type: one wildcard for the type', async (t) => {
  const next = edited((doc) => {
    at(doc, 'types', 'boxshot').crop = 'centre';
  });
  const d = diff(next);
  agreesWithReference(t, d, next);
  t.equal(d.changed, before.filter((u) => u.type === 'boxshot').length);
  t.same(d.invalidations, ['/v1/artwork/boxshot/*']);
  t.match(d.byType, { billboard: { changed: 0 }, logo: { changed: 0 } });
});

t.test('a withdrawn format: its URLs are removed and invalidated, auto URLs change', async (t) => {
  const next = edited((doc) => {
    at(doc, 'types', 'boxshot').formats = ['avif', 'webp'];
  });
  const d = diff(next);
  const ref = agreesWithReference(t, d, next);
  const jpg = before.filter((u) => u.type === 'boxshot' && u.format === 'jpeg');
  t.equal(d.removed, jpg.length);
  t.same([...ref.removed].sort(), jpg.map((u) => u.path).sort());
  t.ok(
    d.changedPaths.every((p) => p.includes('.auto')),
    'auto URLs no longer negotiate JPEG',
  );
  const touched = before.filter((u) => u.type === 'boxshot' && (u.format === 'jpeg' || u.format === 'auto'));
  t.same([...d.invalidations].sort(), exact(touched).sort(), 'removed and changed URLs, with their v twins');
  t.equal(d.renders, 0, 'auto now serves WebP or AVIF images that exist already');
});

t.test("a locale chain change: only that locale's URLs whose artwork changes", async (t) => {
  const next = edited((doc) => {
    at(doc, 'localeFallback')['pt-PT'] = ['pt', 'en'];
  });
  const d = diff(next);
  agreesWithReference(t, d, next);
  // pt-PT used to reach pt-BR artwork (titles with it) and now English: those URLs, nothing else.
  const expected = before.filter((u) => u.requestLocale === 'pt-PT' && u.locale === 'pt-BR');
  t.ok(expected.length > 0);
  t.same([...d.changedPaths].sort(), expected.map((u) => u.path).sort());
  t.same([...d.invalidations].sort(), exact(expected).sort());
  t.equal(d.renders, 0, 'the English images exist already');
});

t.test('render time and cost follow the stated assumptions', async (t) => {
  const next = edited((doc) => {
    list(doc, 'types', 'boxshot', 'sizes').push('500x750');
  });
  const base = diff(next);
  t.match(base.costBasis, /500 ms per image \(stated default, not measured\)/);
  t.match(base.costBasis, /2048 MiB/);
  t.equal(base.renderSeconds, base.renders * 0.5);
  near(t, base.costUsd, lambdaCostUsd({ invocations: base.renders, msPerInvocation: 500 }));

  const given = diffRules({
    current: defaultRules,
    next,
    catalog,
    sourcesBucket: SOURCES_BUCKET,
    costs: { msPerImage: { avif: 900 }, memoryMiB: 1024 },
  });
  const per = base.rendersByFormat as Record<Format, number>;
  t.equal(given.renderSeconds, (per.avif * 900 + (per.webp + per.jpeg) * 500) / 1000);
  t.match(given.costBasis, /1024 MiB/);
  near(
    t,
    given.costUsd,
    lambdaCostUsd({ invocations: per.avif, msPerInvocation: 900, memoryMiB: 1024 }) +
      lambdaCostUsd({ invocations: per.webp + per.jpeg, msPerInvocation: 500, memoryMiB: 1024 }),
  );
});

function near(t: Test, actual: number, expected: number) {
  t.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, expected), `${actual} ≈ ${expected}`);
}
