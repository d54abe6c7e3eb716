import {
  CLOUDFRONT_FREE_INVALIDATION_PATHS_PER_MONTH,
  CLOUDFRONT_USD_PER_INVALIDATION_PATH,
  DEFAULT_MS_PER_IMAGE,
  GENERATOR_MEMORY_MIB,
  LAMBDA_ARM64_USD_PER_GB_SECOND,
  LAMBDA_USD_PER_REQUEST,
  lambdaCostUsd,
  lookHash,
  lookTag,
  plural,
  stableStringify,
  titleTypeTag,
  typeTag,
  type Format,
} from '@marquee/shared';
import { typeNames } from './model.js';
import type { ResolveState } from './resolve.js';
import type { Catalog, Rules } from './schema.js';
import { planEntries, planSize, planTitle, type DerivativeUrl, type PlanEntry, type TypePlan } from './universe.js';

/**
 * What publishing `next` in place of `current` does to every canonical artwork URL (the universe,
 * `universe.ts`): which images change, what re-rendering them costs, and which CDN paths to
 * invalidate.
 *
 * Invalidated: changed URLs, and removed ones too. A removed URL renders nothing new, but the CDN
 * would go on serving the image the new rules no longer give (a withdrawn format or size), for a
 * year under an immutable `v`; after the invalidation it gets the new answer (a 308 to an allowed
 * size, or a 400). Added URLs are not invalidated: the CDN can hold for them only a 308 of the old
 * rules, which it keeps no longer than the route's redirect max-age (an hour), or an error it was
 * told not to keep.
 */

export interface DiffCounts {
  /** URLs both rules serve, with a different image. */
  changed: number;
  /** URLs only `next` serves. */
  added: number;
  /** URLs only `current` serves (under `next` they redirect or are refused). */
  removed: number;
  unchanged: number;
}

export interface DiffCosts {
  /** Billed Generator time per render: one figure, or per format (formats left out take the default). */
  msPerImage?: number | Partial<Record<Format, number>>;
  /** Where one `msPerImage` figure comes from, said beside it in the cost basis. Default `given` (a flag). */
  msSource?: string;
  memoryMiB?: number;
  pricePerGbSecond?: number;
  pricePerRequest?: number;
}

export interface DiffOptions {
  current: Rules;
  next: Rules;
  catalog: Catalog;
  sourcesBucket: string;
  costs?: DiffCosts;
  /**
   * Past this many exact paths for one title of one type, that title's wildcard is used instead
   * (default 16), and past `maxTitleWildcards` title wildcards in a type, the type's (default 15,
   * CloudFront's wildcard paths in progress at once). A quality change to one format otherwise
   * names every URL of every title twice (with and without `v`): thousands of paths. What the
   * wildcard also covers is unchanged: the CDN asks the origin again, and the output cache or the
   * derivative store answers it without a render. Never across types. `Infinity`: exact paths only.
   */
  maxExactPathsPerTitle?: number;
  maxTitleWildcards?: number;
}

export interface RulesDiff extends DiffCounts {
  titles: number;
  byType: Record<string, DiffCounts>;
  /** Distinct images to render for the changed and added URLs (an image `current` already has is not counted). */
  renders: number;
  rendersByFormat: Partial<Record<Format, number>>;
  renderSeconds: number;
  costUsd: number;
  /** The assumptions behind `renderSeconds`, `costUsd` and `invalidationCostUsd`, in words. */
  costBasis: string;
  /**
   * CDN path patterns covering the changed and removed URLs: `/v1/artwork/<type>/*` when no URL of the
   * type is left unchanged, else `/v1/artwork/<type>/<title>/*` per such title, else each URL and its
   * `v` twin (see `exactPaths`), coarsened to wildcards within the type past `maxExactPathsPerTitle` /
   * `maxTitleWildcards` (counted in `overInvalidated`). Added URLs are not invalidated.
   */
  invalidations: string[];
  /**
   * What CloudFront charges for `invalidations` once the month's free paths are used up (the first
   * 1,000 paths a month are free per account); 0 for Varnish.
   */
  invalidationCostUsd: number;
  /** Unchanged URLs the invalidations cover too (a wildcard chosen over many exact paths): refetched, not rendered. */
  overInvalidated: number;
  /**
   * The same changed and removed URLs as cache tags (`shared/src/cache-tags.ts`, without CloudFront's
   * `#`), for a CDN that stores the artwork replies' tags: `type:<type>` when no URL of the type is
   * left unchanged; else `look:<hash>` for each old look (type and format) whose every cached object
   * changes; else `tt:<type>/<title>` when the title's every object of the type changes. What no tag
   * names exactly is in `tagFallbackPaths`. Together they cover the changed objects and no other:
   * unchanged ones are only in `tagOverInvalidated`.
   */
  tagInvalidations: string[];
  /** Exact paths (each URL and its `v` twin) of the changed and removed URLs no tag names exactly: sent beside the tags. */
  tagFallbackPaths: string[];
  /** Unchanged cached objects the tag plan covers (only `auto` URLs' unchanged formats under a fallback path). */
  tagOverInvalidated: number;
  /** The changed URLs (to prewarm), title by title. */
  changedPaths: string[];
  /** The added URLs (to prewarm when in the warm set). */
  addedPaths: string[];
}

const ARTWORK_PREFIX = '/v1/artwork';

/** Per type: URLs left alone, and the patterns for the rest (title wildcards or exact paths). */
interface TypeTally extends DiffCounts {
  patterns: string[];
  /** Title wildcards among `patterns`, and the unchanged URLs they cover. */
  titleWildcards: number;
  overInvalidated: number;
}

/**
 * Compares the two rules' universes title by title (one title's URLs in memory at a time), key by
 * key: the keys come from `resolveArtwork`, so equal keys are byte-identical images.
 *
 * A type whose resolution inputs are equal under both rules (the rules without their other types:
 * `resolveArtwork` reads only the global fields and the requested type) has equal images
 * everywhere: its URLs are counted, not resolved, so a diff costs in proportion to what it touches.
 */
export function diffRules(options: DiffOptions): RulesDiff {
  const { current, next, catalog, sourcesBucket } = options;
  const before: ResolveState = { rules: current, catalog, sourcesBucket };
  const after: ResolveState = { rules: next, catalog, sourcesBucket };
  const types = new Map<string, TypeTally>();
  const same = new Set<string>();
  for (const name of new Set([...typeNames(current), ...typeNames(next)])) {
    types.set(name, {
      changed: 0,
      added: 0,
      removed: 0,
      unchanged: 0,
      patterns: [],
      titleWildcards: 0,
      overInvalidated: 0,
    });
    if (resolutionInputs(current, name) === resolutionInputs(next, name)) same.add(name);
  }
  const tallyOf = (type: string) => types.get(type) as TypeTally;
  const rendersByFormat: Partial<Record<Format, number>> = {};
  const changedPaths: string[] = [];
  const addedPaths: string[] = [];
  const maxExact = options.maxExactPathsPerTitle ?? 16;
  const maxTitleWildcards = options.maxTitleWildcards ?? 15;
  const tags = new TagTally();

  const titleIds = Object.keys(catalog.titles);
  for (const titleId of titleIds) {
    const oldPlans = planTitle(before, titleId);
    const newPlans = planTitle(after, titleId);
    for (const plan of oldPlans) if (same.has(plan.type.name)) tallyOf(plan.type.name).unchanged += planSize(plan);
    const old = entriesByPath(before, oldPlans, same);
    const now = entriesByPath(after, newPlans, same);
    // What this title's artwork already has rendered under `current`: not a new render.
    const held = new Set<string>();
    for (const { image } of old.values()) for (const key of imageKeys(image)) held.add(key);
    const toRender = new Map<string, Format>();
    // Per type of this title: its changed and removed URLs, and whether any URL is left alone.
    const touched = new Map<string, { entries: PlanEntry[]; unchanged: number }>();
    const touch = (entry: PlanEntry, isTouched: boolean) => {
      const type = entry.image.type;
      const tally = touched.get(type) ?? { entries: [], unchanged: 0 };
      if (isTouched) tally.entries.push(entry);
      else tally.unchanged += 1;
      touched.set(type, tally);
    };

    for (const [path, was] of old) {
      const is = now.get(path);
      const tally = tallyOf(was.image.type);
      if (!is) {
        tally.removed += 1;
        touch(was, true);
      } else if (is.image.key === was.image.key) {
        tally.unchanged += 1;
        touch(was, false);
      } else {
        tally.changed += 1;
        changedPaths.push(path);
        touch(was, true);
        needs(is.image, held, toRender);
      }
    }
    for (const [path, is] of now) {
      if (old.has(path)) continue;
      tallyOf(is.image.type).added += 1;
      addedPaths.push(path);
      needs(is.image, held, toRender);
    }
    for (const format of toRender.values()) rendersByFormat[format] = (rendersByFormat[format] ?? 0) + 1;
    tags.title(titleId, old, now);

    for (const [type, { entries, unchanged }] of touched) {
      if (entries.length === 0) continue;
      const tally = tallyOf(type);
      const exact = entries.flatMap(exactPaths);
      if (unchanged === 0 || exact.length > maxExact) {
        tally.patterns.push(`${ARTWORK_PREFIX}/${type}/${titleId}/*`);
        tally.titleWildcards += 1;
        tally.overInvalidated += unchanged;
      } else tally.patterns.push(...exact);
    }
  }

  const byType: Record<string, DiffCounts> = {};
  const invalidations: string[] = [];
  let overInvalidated = 0;
  const total: DiffCounts = { changed: 0, added: 0, removed: 0, unchanged: 0 };
  for (const [type, tally] of types) {
    const { patterns, titleWildcards, overInvalidated: over, ...counts } = tally;
    byType[type] = counts;
    for (const k of ['changed', 'added', 'removed', 'unchanged'] as const) total[k] += counts[k];
    const touchedUrls = counts.changed + counts.removed;
    if (touchedUrls > 0 && (counts.unchanged === 0 || titleWildcards > maxTitleWildcards)) {
      invalidations.push(`${ARTWORK_PREFIX}/${type}/*`);
      overInvalidated += counts.unchanged;
    } else {
      invalidations.push(...patterns);
      overInvalidated += over;
    }
  }

  const tagPlan = tags.plan();
  const cost = renderCost(rendersByFormat, options.costs ?? {});
  const invalidationCostUsd = invalidations.length * CLOUDFRONT_USD_PER_INVALIDATION_PATH;
  return {
    ...total,
    titles: titleIds.length,
    byType,
    ...cost,
    costBasis:
      `${cost.costBasis} Invalidation: ${invalidations.length} CloudFront ${plural(invalidations.length, 'path')} × $${CLOUDFRONT_USD_PER_INVALIDATION_PATH} ` +
      `past the ${CLOUDFRONT_FREE_INVALIDATION_PATHS_PER_MONTH} free paths a month.`,
    invalidations,
    invalidationCostUsd,
    overInvalidated,
    ...tagPlan,
    changedPaths,
    addedPaths,
  };
}

/**
 * One cached object of a URL: the URL's image, or for `auto` one per format it negotiates (each
 * Accept a CDN keeps apart is one of them, tagged with that format's look).
 */
interface CachedObject {
  key: string;
  look: string;
}

function cachedObjects(url: DerivativeUrl): CachedObject[] {
  const images = url.variants ?? [{ key: url.key, spec: url.spec }];
  return images.map((v) => ({ key: v.key, look: lookTag(lookHash(url.type, v.spec)) }));
}

/** The objects of `was` that `is` (the same URL under the next rules) does not serve byte for byte. */
function touchedObjects(was: DerivativeUrl, is: DerivativeUrl | undefined): boolean[] {
  const before = cachedObjects(was);
  if (is === undefined) return before.map(() => true);
  const after = cachedObjects(is);
  // Another format list: an Accept may negotiate another format than the object it has cached.
  if (before.length !== after.length || was.variants?.some((v, i) => v.format !== is.variants?.[i]?.format))
    return before.map(() => true);
  return before.map((o, i) => o.key !== after[i]?.key);
}

/**
 * The tag plan, gathered title by title over the URLs of the types whose rules differ (a type
 * whose rules are equal has no touched object, and its tags name only it: the type is in each).
 */
class TagTally {
  /** Per type: touched and unchanged objects; per old look: the same, and the URLs touched under it. */
  readonly #types = new Map<string, { touched: number; unchanged: number }>();
  readonly #looks = new Map<string, { type: string; unchanged: number; entries: Set<PlanEntry> }>();
  /** Per type and title, the touched URLs and whether an object is left unchanged. */
  readonly #titles = new Map<string, { type: string; titleId: string; unchanged: number; entries: PlanEntry[] }>();

  title(titleId: string, old: ReadonlyMap<string, PlanEntry>, now: ReadonlyMap<string, PlanEntry>): void {
    for (const [path, was] of old) {
      const { type } = was.image;
      const objects = cachedObjects(was.image);
      const touched = touchedObjects(was.image, now.get(path)?.image);
      const byType = this.#types.get(type) ?? { touched: 0, unchanged: 0 };
      this.#types.set(type, byType);
      const titleKey = `${type}/${titleId}`;
      const byTitle = this.#titles.get(titleKey) ?? { type, titleId, unchanged: 0, entries: [] };
      this.#titles.set(titleKey, byTitle);
      if (touched.includes(true)) byTitle.entries.push(was);
      for (const [i, { look }] of objects.entries()) {
        const byLook = this.#looks.get(look) ?? { type, unchanged: 0, entries: new Set<PlanEntry>() };
        this.#looks.set(look, byLook);
        if (touched[i] === true) {
          byType.touched += 1;
          byLook.entries.add(was);
        } else {
          byType.unchanged += 1;
          byLook.unchanged += 1;
          byTitle.unchanged += 1;
        }
      }
    }
  }

  plan(): Pick<RulesDiff, 'tagInvalidations' | 'tagFallbackPaths' | 'tagOverInvalidated'> {
    const tagInvalidations: string[] = [];
    const covered = new Set<PlanEntry>();
    const wholeTypes = new Set<string>();
    for (const [type, { touched, unchanged }] of this.#types)
      if (touched > 0 && unchanged === 0) {
        tagInvalidations.push(typeTag(type));
        wholeTypes.add(type);
      }
    for (const [look, { type, unchanged, entries }] of this.#looks) {
      if (wholeTypes.has(type) || entries.size === 0 || unchanged > 0) continue;
      tagInvalidations.push(look);
      for (const entry of entries) covered.add(entry);
    }
    // A URL is left when one of its touched objects has a look some unchanged object shares.
    const left = (entry: PlanEntry) =>
      !covered.has(entry) ||
      cachedObjects(entry.image).some(
        (o) => this.#looks.get(o.look)?.unchanged !== 0 && this.#looks.get(o.look)?.entries.has(entry),
      );
    const tagFallbackPaths: string[] = [];
    let tagOverInvalidated = 0;
    for (const { type, titleId, unchanged, entries } of this.#titles.values()) {
      if (wholeTypes.has(type)) continue;
      const rest = entries.filter(left);
      if (rest.length === 0) continue;
      if (unchanged === 0) tagInvalidations.push(titleTypeTag(type, titleId));
      else
        for (const entry of rest) {
          tagFallbackPaths.push(...exactPaths(entry));
          // An exact path purges every format an `auto` URL holds, its unchanged ones too.
          const objects = cachedObjects(entry.image).length;
          const touchedCount = [...this.#looks.values()].filter((l) => l.entries.has(entry)).length;
          tagOverInvalidated += Math.max(0, objects - touchedCount);
        }
    }
    return { tagInvalidations: tagInvalidations.sort(), tagFallbackPaths, tagOverInvalidated };
  }
}

/** What resolving a URL of `type` reads of the rules: everything but the other types. */
function resolutionInputs(rules: Rules, type: string): string {
  const own = Object.hasOwn(rules.types, type) ? rules.types[type] : undefined;
  return own === undefined ? '' : stableStringify({ ...rules, types: { [type]: own } });
}

/** The URLs of the plans whose type differs between the rules, by path. */
function entriesByPath(state: ResolveState, plans: readonly TypePlan[], same: ReadonlySet<string>) {
  const out = new Map<string, PlanEntry>();
  for (const plan of plans) {
    if (same.has(plan.type.name)) continue;
    for (const entry of planEntries(state, plan)) out.set(entry.path, entry);
  }
  return out;
}

/** The images a URL may serve: one, or an `auto` URL's variants. */
function imageKeys(url: DerivativeUrl): string[] {
  return url.variants ? url.variants.map((v) => v.key) : [url.key];
}

/** Records the images of `url` that nothing holds yet (`auto` shares its variants' renders). */
function needs(url: DerivativeUrl, held: ReadonlySet<string>, toRender: Map<string, Format>): void {
  const images = url.variants ?? (url.format === 'auto' ? [] : [{ key: url.key, format: url.format }]);
  for (const { key, format } of images) if (!held.has(key)) toRender.set(key, format);
}

/**
 * The CDN paths of one changed or removed URL when its title's other URLs of the type stay: the
 * URL itself, and its twin carrying the artwork's current `v`.
 *
 * Why these and no wildcard per file: CloudFront keys the artwork on `locale` and `v` (the CDK
 * cache policy), and its invalidation paths match the query string as written: a path without
 * one invalidates only the URL without one ("If you configured CloudFront to forward query
 * strings ... you must include the query strings when invalidating", Amazon CloudFront Developer
 * Guide, Invalidation). `FILE*` would catch every query, but also the file's unchanged locales,
 * and CloudFront runs only 15 wildcard paths at a time (3,000 exact ones). The `v` twin matters
 * most: a URL naming the current version is cached `immutable` for a year. A URL naming another
 * `v` is cached under the ordinary policy and ages out by itself (the rules' `sMaxAge`). A `*` may
 * only end a path, so per-title and per-type patterns are `/v1/artwork/<type>/<title>/*` and
 * `/v1/artwork/<type>/*`, each catching every query of every file under it.
 */
function exactPaths({ path, image }: PlanEntry): [string, string] {
  const separator = path.includes('?') ? '&' : '?';
  return [path, `${path}${separator}${new URLSearchParams({ v: image.version }).toString()}`];
}

function renderCost(
  rendersByFormat: Partial<Record<Format, number>>,
  costs: DiffCosts,
): Pick<RulesDiff, 'renders' | 'rendersByFormat' | 'renderSeconds' | 'costUsd' | 'costBasis'> {
  const memoryMiB = costs.memoryMiB ?? GENERATOR_MEMORY_MIB;
  const usdPerGbSecond = costs.pricePerGbSecond ?? LAMBDA_ARM64_USD_PER_GB_SECOND;
  const usdPerRequest = costs.pricePerRequest ?? LAMBDA_USD_PER_REQUEST;
  const msOf = (format: Format): number =>
    typeof costs.msPerImage === 'number' ? costs.msPerImage : (costs.msPerImage?.[format] ?? DEFAULT_MS_PER_IMAGE);
  let renders = 0;
  let renderSeconds = 0;
  let costUsd = 0;
  for (const [format, count] of Object.entries(rendersByFormat) as Array<[Format, number]>) {
    const ms = msOf(format);
    renders += count;
    renderSeconds += (count * ms) / 1000;
    costUsd += lambdaCostUsd({ invocations: count, msPerInvocation: ms, memoryMiB, usdPerGbSecond, usdPerRequest });
  }
  const measured = costs.msPerImage !== undefined;
  const ms =
    typeof costs.msPerImage === 'number'
      ? `${costs.msPerImage} ms per image (${costs.msSource ?? 'given'})`
      : measured
        ? `per format ${JSON.stringify(costs.msPerImage)} ms, else ${DEFAULT_MS_PER_IMAGE} ms (stated default, not measured)`
        : `${DEFAULT_MS_PER_IMAGE} ms per image (stated default, not measured)`;
  const costBasis =
    `${renders} ${plural(renders, 'render')} (distinct images of the changed and added URLs that the current rules do not already have) ` +
    `× ${ms}, on Lambda arm64 at ${memoryMiB} MiB: $${usdPerGbSecond} per GB-s + $${(usdPerRequest * 1_000_000).toFixed(2)} per ` +
    'million requests. An upper bound for on-demand traffic: an image is rendered only when one of its URLs is ' +
    'requested again (or prewarmed); S3 and CDN charges are not included.';
  return { renders, rendersByFormat, renderSeconds, costUsd, costBasis };
}
