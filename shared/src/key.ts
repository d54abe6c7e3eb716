import { createHash } from 'node:crypto';
import type { ImageSpec, Source } from './schema.js';

/** JSON with object keys sorted at every depth and `undefined` dropped: equal values, equal text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in key');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/**
 * Bumped when rendering changes in a way that must not reuse old outputs, and whenever the key
 * text changes: every stored derivative and CDN object is named by the key. Golden vectors in
 * `shared/test/key.test.ts` pin the keys, and the hash of their table, to this version.
 */
export const KEY_VERSION = 1;

/** The text `specKey` hashes: `source`, `spec` and `version` with `KEY_VERSION`, keys sorted. */
export function specKeyText(source: Source, spec: ImageSpec, version?: string): string {
  return stableStringify({ k: KEY_VERSION, source, spec, version });
}

/**
 * The canonical spec key: a stable hash of source (with its version) and spec.
 * It names an output everywhere: caches, coalescing, derivative objects, ETags.
 * 32 hex characters (128 bits of SHA-256).
 */
export function specKey(source: Source, spec: ImageSpec, version?: string): string {
  return createHash('sha256')
    .update(specKeyText(source, spec, version))
    .digest('hex')
    .slice(0, 32);
}
