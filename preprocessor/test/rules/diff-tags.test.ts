import t from 'tap';
import { stringify } from 'yaml';
import { artworkCacheTags, checkCacheTags } from '@marquee/shared';
import { diffRules, type RulesDiff } from '../../src/rules/diff.js';
import { parseRules } from '../../src/rules/load.js';
import type { Rules } from '../../src/rules/schema.js';
import { derivativeUrls, type DerivativeUrl } from '../../src/rules/universe.js';
import { SOURCES_BUCKET, at, defaultCatalog, defaultRules, list, rulesDoc, type Doc } from './fixtures.js';

/**
 * The tag plan against a CDN's view: every object it may hold (a URL, and for `auto` each format
 * it negotiates, with and without the artwork's `v`), tagged as the artwork route tags its reply.
 * Purging the plan's tags and paths must drop exactly the objects whose bytes change.
 */
interface CdnObject {
  path: string;
  key: string;
  format: string;
  type: string;
  tags: string[];
}

const catalog = defaultCatalog;

function edited(edit: (doc: Doc) => void): Rules {
  const doc = rulesDoc();
  edit(doc);
  return parseRules(stringify(doc), 'edited-rules.yaml');
}

function objects(rules: Rules): CdnObject[] {
  const out: CdnObject[] = [];
  const urls: DerivativeUrl[] = derivativeUrls(rules, catalog, { sourcesBucket: SOURCES_BUCKET });
  for (const url of urls) {
    const twin = `${url.path}${url.path.includes('?') ? '&' : '?'}${new URLSearchParams({ v: url.version }).toString()}`;
    for (const v of url.variants ?? [{ key: url.key, spec: url.spec, format: url.format }])
      for (const path of [url.path, twin])
        out.push({
          path,
          key: v.key,
          format: v.format,
          type: url.type,
          tags: artworkCacheTags({ type: url.type, titleId: url.titleId, spec: v.spec }),
        });
  }
  return out;
}

const id = (o: CdnObject) => `${o.path}#${o.format}`;

/** The objects `diff`'s tag plan purges, and the ones whose bytes differ under `next`. */
function purge(d: RulesDiff, next: Rules): { purged: Set<string>; changed: Set<string> } {
  const old = objects(defaultRules);
  const now = new Map(objects(next).map((o) => [id(o), o.key]));
  const tags = new Set(d.tagInvalidations);
  const paths = new Set(d.tagFallbackPaths);
  const purged = new Set(old.filter((o) => o.tags.some((tag) => tags.has(tag)) || paths.has(o.path)).map(id));
  const changed = new Set(old.filter((o) => now.get(id(o)) !== o.key).map(id));
  return { purged, changed };
}

const plan = (next: Rules) =>
  diffRules({ current: defaultRules, next, catalog, sourcesBucket: SOURCES_BUCKET, maxExactPathsPerTitle: Infinity });

t.test('a WebP quality change: the WebP objects of every type are purged by look, the JPEG ones stay', async (t) => {
  const next = edited((doc) => {
    at(doc, 'encoding', 'webp').quality = 61;
  });
  const d = plan(next);
  const { purged, changed } = purge(d, next);
  t.ok(changed.size > 0);
  t.same([...purged].sort(), [...changed].sort(), 'exactly the changed objects');
  t.ok(d.tagInvalidations.length > 0 && d.tagInvalidations.every((tag) => tag.startsWith('look:')), 'look tags only');
  t.same(d.tagFallbackPaths, [], 'no path needed');
  t.equal(d.tagOverInvalidated, 0);
  const old = objects(defaultRules);
  const jpegBoxshots = old.filter((o) => o.type === 'boxshot' && o.format === 'jpeg');
  t.ok(
    jpegBoxshots.length > 0 && jpegBoxshots.every((o) => !purged.has(id(o))),
    `${jpegBoxshots.length} JPEG boxshot objects stay`,
  );
  // The rules' size classes (small, large) override WebP's quality: only the medium sizes change.
  const webpBoxshots = old.filter((o) => o.type === 'boxshot' && o.format === 'webp');
  const changedWebp = webpBoxshots.filter((o) => changed.has(id(o)));
  t.ok(changedWebp.length > 0 && changedWebp.length < webpBoxshots.length);
  t.ok(
    changedWebp.every((o) => purged.has(id(o))),
    `${changedWebp.length} changed WebP boxshot objects are purged`,
  );
  t.ok(
    webpBoxshots.filter((o) => !changed.has(id(o))).every((o) => !purged.has(id(o))),
    'the WebP boxshots of another size class stay',
  );
  t.ok(d.overInvalidated >= 0, 'the path plan stays beside it');
  t.ok(d.invalidations.length > 0);
});

t.test('a change to every URL of a type: its type tag', async (t) => {
  const next = edited((doc) => {
    at(doc, 'types', 'boxshot').crop = 'centre';
  });
  const d = plan(next);
  t.same(d.tagInvalidations, ['type:boxshot']);
  const { purged, changed } = purge(d, next);
  t.same([...purged].sort(), [...changed].sort());
});

t.test('a removed size: its look stays on the other sizes, so its URLs go by exact path', async (t) => {
  // Why: the look is shared with the sizes that stay; purging it would refetch them too.
  const next = edited((doc) => {
    const sizes = list(doc, 'types', 'boxshot', 'sizes');
    sizes.splice(sizes.indexOf('684x1026'), 1);
  });
  const d = plan(next);
  t.notOk(d.tagInvalidations.includes('type:boxshot'), 'not the type');
  const { purged, changed } = purge(d, next);
  t.same([...purged].sort(), [...changed].sort(), 'exactly the changed objects');
  const removed = objects(defaultRules).filter((o) => o.type === 'boxshot' && /\/684x1026(@\dx)?\./.test(o.path));
  t.ok(
    removed.every((o) => purged.has(id(o))),
    'every object of the removed size is purged',
  );
  const kept = objects(defaultRules).filter((o) => o.type === 'boxshot' && !/\/684x1026(@\dx)?\./.test(o.path));
  t.ok(
    kept.every((o) => !purged.has(id(o))),
    'no other size is',
  );
});

t.test('every reply tag is one CloudFront stores', async (t) => {
  for (const o of objects(defaultRules)) checkCacheTags(o.tags);
  t.pass();
});
