import type { Rules } from './schema.js';

/**
 * A BCP 47 tag, loosely: a 2–3 letter language then subtags of 1–8 letters or
 * digits (`en`, `pt-BR`, `zh-Hant-TW`, `es-419`). Enough to refuse junk
 * before it reaches a lookup or a log line.
 */
export const LOCALE_TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}$/;

export function isLocaleTag(value: string): boolean {
  return LOCALE_TAG.test(value);
}

/**
 * The locales to try for a request, best first, without duplicates (compared
 * case-insensitively). An explicit `localeFallback` chain is used as written
 * (list the default locale in it to fall back to it); otherwise subtags are
 * stripped right to left, then the default locale.
 */
export function localeChain(rules: Rules, requested: string | undefined): string[] {
  const first = requested ?? rules.defaultLocale;
  const explicit = explicitChain(rules, first);
  const chain = explicit ? [first, ...explicit] : [...stripped(first), rules.defaultLocale];
  const seen = new Set<string>();
  return chain.filter((tag) => {
    const folded = tag.toLowerCase();
    if (seen.has(folded)) return false;
    seen.add(folded);
    return true;
  });
}

function explicitChain(rules: Rules, tag: string): string[] | undefined {
  const fallbacks = rules.localeFallback;
  if (!fallbacks) return undefined;
  const folded = tag.toLowerCase();
  for (const [key, chain] of Object.entries(fallbacks)) {
    if (key.toLowerCase() === folded) return chain;
  }
  return undefined;
}

/** `zh-Hant-TW` → `zh-Hant-TW`, `zh-Hant`, `zh`. */
function stripped(tag: string): string[] {
  const parts = tag.split('-');
  const out: string[] = [];
  for (let n = parts.length; n > 0; n--) out.push(parts.slice(0, n).join('-'));
  return out;
}

/** The key of `entries` matching `tag` case-insensitively, in the document's own spelling. */
export function findLocale(entries: Record<string, unknown>, tag: string): string | undefined {
  if (Object.hasOwn(entries, tag)) return tag;
  const folded = tag.toLowerCase();
  return Object.keys(entries).find((key) => key.toLowerCase() === folded);
}
