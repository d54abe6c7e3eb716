import { MAX_OVERLAYS } from '@marquee/shared';
import { RulesError } from './errors.js';
import { isLocaleTag } from './locale.js';
import {
  countRenders,
  DEFAULT_SIZE_POLICY,
  MAX_LADDER_RENDERS,
  parseAspect,
  parseSize,
  renderableSizes,
  tuningOf,
} from './model.js';
import type { Catalog, EncodingMap, Rules, TypeRules } from './schema.js';

/** Artwork type names appear in URLs: one lower-case path segment. */
const TYPE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** Title ids appear in URLs and keys (the catalog contract). */
export const TITLE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** JSON pointer segment escaping (RFC 6901). */
function seg(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Checks the schema cannot express; throws a RulesError naming the field. */
export function checkRules(rules: Rules, origin: string): void {
  const fail = (path: string, detail: string): never => {
    throw new RulesError(origin, path, detail);
  };

  if (!isLocaleTag(rules.defaultLocale)) {
    fail('/defaultLocale', `expected a locale like en or pt-BR, got ${JSON.stringify(rules.defaultLocale)}`);
  }
  checkFallbacks(rules, fail);
  checkUnique(rules.dpr, '/dpr', fail);
  const classes = checkSizeClasses(rules, fail);
  checkEncoding(rules.encoding, '/encoding', classes, fail);

  const names = Object.keys(rules.types);
  if (names.length === 0) fail('/types', 'expected at least one artwork type');
  for (const name of names) {
    const path = `/types/${seg(name)}`;
    if (!TYPE_NAME.test(name))
      fail(path, `type names are lower-case URL segments like boxshot, got ${JSON.stringify(name)}`);
    checkType(rules, rules.types[name] as TypeRules, path, classes, fail);
  }
}

type Fail = (path: string, detail: string) => never;

function checkFallbacks(rules: Rules, fail: Fail): void {
  const seen = new Set<string>();
  for (const [tag, chain] of Object.entries(rules.localeFallback ?? {})) {
    const path = `/localeFallback/${seg(tag)}`;
    if (!isLocaleTag(tag)) fail(path, `expected a locale like pt-BR, got ${JSON.stringify(tag)}`);
    if (seen.has(tag.toLowerCase())) fail(path, 'duplicate locale (locales compare case-insensitively)');
    seen.add(tag.toLowerCase());
    chain.forEach((entry, i) => {
      if (!isLocaleTag(entry)) fail(`${path}/${i}`, `expected a locale like pt or en, got ${JSON.stringify(entry)}`);
    });
  }
}

function checkUnique(values: readonly (string | number)[], path: string, fail: Fail): void {
  values.forEach((v, i) => {
    if (values.indexOf(v) !== i) fail(`${path}/${i}`, `duplicate ${JSON.stringify(v)}`);
  });
}

/** Names ascending by maxWidth, the last one open-ended. */
function checkSizeClasses(rules: Rules, fail: Fail): Set<string> {
  const names = new Set<string>();
  let previous = 0;
  rules.sizeClasses.forEach((cls, i) => {
    const path = `/sizeClasses/${i}`;
    if (names.has(cls.name)) fail(`${path}/name`, `duplicate size class ${JSON.stringify(cls.name)}`);
    names.add(cls.name);
    const last = i === rules.sizeClasses.length - 1;
    if (last && cls.maxWidth !== undefined) {
      fail(`${path}/maxWidth`, 'the last size class takes every larger width: leave out its maxWidth');
    }
    if (!last && cls.maxWidth === undefined)
      fail(`${path}/maxWidth`, 'is required (only the last class is open-ended)');
    if (cls.maxWidth !== undefined) {
      if (cls.maxWidth <= previous) fail(`${path}/maxWidth`, `expected more than ${previous} (classes ascend)`);
      previous = cls.maxWidth;
    }
  });
  return names;
}

function checkEncoding(encoding: EncodingMap | undefined, path: string, classes: Set<string>, fail: Fail): void {
  for (const [format, enc] of Object.entries(encoding ?? {})) {
    for (const cls of Object.keys(enc?.sizeClasses ?? {})) {
      if (!classes.has(cls)) {
        fail(`${path}/${format}/sizeClasses/${seg(cls)}`, `unknown size class (declared: ${[...classes].join(', ')})`);
      }
    }
  }
}

function checkType(rules: Rules, t: TypeRules, path: string, classes: Set<string>, fail: Fail): void {
  const aspect = parseAspect(t.aspect);
  checkUnique(t.sizes, `${path}/sizes`, fail);
  t.sizes.forEach((text, i) => {
    const size = parseSize(text);
    const at = `${path}/sizes/${i}`;
    if (size.width > t.maxWidth || size.height > t.maxHeight) {
      fail(at, `${text} is outside the type's max ${t.maxWidth}x${t.maxHeight}`);
    }
    // Within rounding: the height is the aspect's exact height, rounded either way.
    const exact = (size.width * aspect.height) / aspect.width;
    if (Math.abs(size.height - exact) >= 1) {
      fail(at, `${text} is not on the aspect ${t.aspect} (expected a height of about ${exact.toFixed(1)})`);
    }
  });

  if ((t.sizePolicy ?? DEFAULT_SIZE_POLICY) === 'any') checkLadder(rules, t, path, fail);

  checkUnique(t.formats, `${path}/formats`, fail);
  checkEncoding(t.encoding, `${path}/encoding`, classes, fail);
  t.formats.forEach((format, i) => {
    if (tuningOf(rules, t, format, undefined).quality === undefined) {
      fail(`${path}/formats/${i}`, `no quality for ${format}: set encoding.${format}.quality here or globally`);
    }
  });

  checkPrewarm(rules, t, path, fail);

  const overlays = t.overlays ?? [];
  if (overlays.length > MAX_OVERLAYS) fail(`${path}/overlays`, `at most ${MAX_OVERLAYS} overlays per type`);
  overlays.forEach((o, i) => {
    if (o.source.trim() === '' || o.source.startsWith('/')) {
      fail(
        `${path}/overlays/${i}/source`,
        `expected a key in the sources bucket like badges/top10.png, got ${JSON.stringify(o.source)}`,
      );
    }
  });
}

/** A prewarm names only what the type renders: its sizes (or ladder), the rules' DPRs, its formats. */
function checkPrewarm(rules: Rules, t: TypeRules, path: string, fail: Fail): void {
  const prewarm = t.prewarm;
  if (prewarm === undefined || prewarm === false) return;
  const at = `${path}/prewarm`;
  if (t.store === false) fail(at, 'a prewarm renders into the derivative store: with store: false, set prewarm: false');
  const renderable = renderableSizes(rules, t);
  (prewarm.sizes ?? []).forEach((text, i) => {
    const { width, height } = parseSize(text);
    const renders = [...renderable.values()].some((sizes) =>
      sizes.some((s) => s.width === width && s.height === height),
    );
    if (!renders)
      fail(`${at}/sizes/${i}`, `${text} is not a size this type renders (its sizes${t.ladder ? ' or ladder' : ''})`);
  });
  if (prewarm.sizes) checkUnique(prewarm.sizes, `${at}/sizes`, fail);
  (prewarm.dprs ?? []).forEach((dpr, i) => {
    if (!rules.dpr.includes(dpr))
      fail(`${at}/dprs/${i}`, `${dpr} is not one of the rules' DPRs (${rules.dpr.join(', ')})`);
  });
  if (prewarm.dprs) checkUnique(prewarm.dprs, `${at}/dprs`, fail);
  (prewarm.formats ?? []).forEach((format, i) => {
    if (!t.formats.includes(format))
      fail(`${at}/formats/${i}`, `${format} is not one of the type's formats (${t.formats.join(', ')})`);
  });
  if (prewarm.formats) checkUnique(prewarm.formats, `${at}/formats`, fail);
}

/** `any` must say which sizes exist, and few enough of them: every one is a render an unsigned URL can cause. */
function checkLadder(rules: Rules, t: TypeRules, path: string, fail: Fail): void {
  if (!t.ladder) {
    fail(
      `${path}/ladder`,
      'is required with sizePolicy: any (it bounds the sizes URLs can ask for), e.g. { minWidth: 100, ratio: 1.25 }',
    );
  }
  const renders = countRenders(renderableSizes(rules, t));
  if (renders > MAX_LADDER_RENDERS) {
    fail(
      `${path}/ladder`,
      `allows ${renders} renders per title, locale and format, over the limit of ${MAX_LADDER_RENDERS}: raise minWidth or ratio`,
    );
  }
}

/** Checks on the catalog beyond its schema. */
export function checkCatalog(catalog: Catalog, origin: string): void {
  const fail = (path: string, detail: string): never => {
    throw new RulesError(origin, path, detail);
  };
  for (const [id, title] of Object.entries(catalog.titles)) {
    const path = `/titles/${seg(id)}`;
    if (!TITLE_ID.test(id)) fail(path, `title ids are 1-64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(id)}`);
    for (const [type, byLocale] of Object.entries(title.artwork)) {
      const seen = new Set<string>();
      for (const locale of Object.keys(byLocale)) {
        const at = `${path}/artwork/${seg(type)}/${seg(locale)}`;
        if (!isLocaleTag(locale)) fail(at, `expected a locale like en or pt-BR, got ${JSON.stringify(locale)}`);
        if (seen.has(locale.toLowerCase())) fail(at, 'duplicate locale (locales compare case-insensitively)');
        seen.add(locale.toLowerCase());
      }
    }
  }
}
