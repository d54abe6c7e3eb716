import t from 'tap';
import { MarqueeError } from '@marquee/shared';
import { heightOn, typeModel, type TypeModel } from '../../src/rules/model.js';
import { resolveArtwork, type ArtworkRequest, type ResolveState } from '../../src/rules/resolve.js';
import { posterType, req, rulesWith, RULES_TEXT, state, stateWith } from './fixtures.js';

/** What a type's whole URL space comes to. */
interface Census {
  /** Distinct output pixel sizes rendered (after following redirects). */
  renders: Set<string>;
  /** Distinct cache keys rendered: one title, locale and format, so one per output size. */
  keys: Set<string>;
  /** Distinct `WxH@D` URLs that render without a redirect. */
  canonical: Set<string>;
  /** Anything that broke the contract: a redirect to a redirect, an error other than "over the max". */
  problems: string[];
}

function model(s: ResolveState, type: string): TypeModel {
  const m = typeModel(s.rules, type);
  if (!m) throw new Error(`no type ${type}`);
  return m;
}

/**
 * Heights asked with `width` at `dpr`: none (W-only), on the aspect and either
 * side of it, extremes, and a spread of others.
 */
function heightsFor(m: TypeModel, width: number, dpr: number): Array<number | undefined> {
  const onAspect = heightOn(m.aspect, width);
  const tallest = Math.floor(m.rules.maxHeight / dpr);
  const spread = 1 + ((width * 37) % Math.max(1, tallest));
  return [
    ...new Set([undefined, 1, onAspect - 1, onAspect, onAspect + 1, 2 * onAspect, tallest, tallest + 1, spread]),
  ].filter((h) => h === undefined || h >= 1);
}

/**
 * Every width from 1 to the type's max, each with `heightsFor`, at every DPR,
 * through resolveArtwork, following each redirect once.
 */
function census(s: ResolveState, type: string, ext: ArtworkRequest['ext']): Census {
  const m = model(s, type);
  const out: Census = { renders: new Set(), keys: new Set(), canonical: new Set(), problems: [] };
  for (const dpr of s.rules.dpr) {
    for (let width = 1; width <= m.rules.maxWidth; width += 1) {
      for (const height of heightsFor(m, width, dpr)) {
        const asked = req({ type, ext, width, height, dpr });
        const url = `${width}x${height ?? ''}@${dpr}`;
        let first;
        try {
          first = resolveArtwork(s, asked);
        } catch (err) {
          const over = width * dpr > m.rules.maxWidth || (height ?? 0) * dpr > m.rules.maxHeight;
          if (!(err instanceof MarqueeError && err.code === 'SIZE_NOT_ALLOWED' && (over || m.sizePolicy !== 'any'))) {
            out.problems.push(`${url}: ${String(err)}`);
          }
          continue;
        }
        if (first.kind === 'render') out.canonical.add(`${first.logicalSize}@${dpr}`);
        const final =
          first.kind === 'render' ? first : resolveArtwork(s, { ...asked, width: first.width, height: first.height });
        if (final.kind !== 'render') {
          out.problems.push(`${url}: redirected twice`);
          continue;
        }
        out.renders.add(`${final.spec.width}x${final.spec.height}`);
        out.keys.add(final.key);
      }
    }
  }
  return out;
}

t.test('the whole URL space of the default logo: as many renders as the rules say, and few', async (t) => {
  const logo = model(state, 'logo');
  const seen = census(state, 'logo', 'png');
  t.same(seen.problems, [], 'every URL renders, redirects once to a render, or is over the max');
  t.equal(seen.renders.size, logo.renders, 'distinct renders = the computed bound');
  t.equal(logo.renders, 26, 'the bound the rules file states');
  t.ok(logo.renders <= 64, 'and it is small');
  t.equal(seen.keys.size, logo.renders, 'one cache key per render');
  const sizes = [...logo.sizesAt.values()].reduce((n, s) => n + s.length, 0);
  t.equal(seen.canonical.size, sizes, 'the URLs that render are the ladder sizes at each DPR');
  t.equal(sizes, 32);
});

t.test('snap types: the same bound holds for their listed sizes', async (t) => {
  for (const [type, ext, bound] of [
    ['boxshot', 'jpg', 8],
    ['billboard', 'jpg', 8],
  ] as const) {
    const seen = census(state, type, ext);
    t.same(seen.problems, [], `${type}: no URL breaks the contract`);
    t.equal(seen.renders.size, model(state, type).renders, `${type}: distinct renders = the bound`);
    t.equal(seen.keys.size, bound, `${type}: the bound the rules file states`);
  }
});

t.test('a made-up any type: listed sizes off the ladder, a cover fit', async (t) => {
  const s = stateWith({
    poster: {
      ...posterType,
      sizes: ['171x256', '342x513'],
      sizePolicy: 'any',
      ladder: { minWidth: 100, ratio: 1.5 },
      maxWidth: 684,
      maxHeight: 1026,
    },
  });
  const seen = census(s, 'poster', 'jpg');
  t.same(seen.problems, []);
  t.equal(seen.renders.size, model(s, 'poster').renders);
  t.equal(seen.keys.size, model(s, 'poster').renders);
});

t.test("the issue's 100 URLs (301x101 … 400x107) come to one render", async (t) => {
  const target = (width: number, height?: number) => {
    const out = resolveArtwork(state, req({ type: 'logo', ext: 'png', width, height }));
    return out.kind === 'render' ? out.logicalSize : `${out.width}x${out.height}`;
  };
  const boxes = new Set(Array.from({ length: 100 }, (_, i) => target(301 + i, 101 + (i % 7))));
  // None of those boxes holds more than 321x107 of a 3:1 logo.
  t.same([...boxes], ['378x126']);
  const widths = new Set(Array.from({ length: 100 }, (_, i) => target(301 + i)));
  t.same([...widths].sort(), ['378x126', '476x159'], 'W-only 301 … 400: two');
});

t.test('the rules file states each default type’s bound', async (t) => {
  // Each type's block in rules.yaml says "At most N renders"; a ladder or size edit must update it.
  const blocks = RULES_TEXT.split(/^ {2}(?=[a-z][a-z0-9-]*:\n)/m).slice(1);
  const stated = new Map(blocks.map((b) => [b.slice(0, b.indexOf(':')), /At most (\d+) renders/.exec(b)?.[1]]));
  for (const type of Object.keys(state.rules.types)) {
    t.equal(Number(stated.get(type)), model(state, type).renders, type);
  }
});

t.test('a ladder is only used by any', async (t) => {
  const rules = rulesWith({ logo: { ...state.rules.types.logo, sizePolicy: 'snap' } });
  const snapped = typeModel(rules, 'logo');
  t.same(
    snapped?.sizesAt.get(1)?.map((s) => `${s.width}x${s.height}`),
    ['300x100', '600x200', '1200x400'],
    'the listed sizes',
  );
  // 300x100, 600x200 and 1200x400; at 2x only 300x100 and 600x200 fit, the same pixels; at 3x 300x100 is 900x300.
  t.equal(snapped?.renders, 4);
});
