import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import type { Catalog } from '@marquee/shared';
import { SEEDED_UNIVERSE, enumerateKeys, type Universe } from '../scenarios/universe.js';

export const SOURCES_BUCKET = 'marquee-sources';

export type { Catalog };

/** Reads an object from the local S3 (s3rver answers unsigned path-style GETs). */
export async function getObject(s3Endpoint: string, key: string): Promise<Buffer> {
  const res = await request(`${s3Endpoint}/${SOURCES_BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`);
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200)
    throw new Error(`GET s3://${SOURCES_BUCKET}/${key}: ${res.statusCode} ${body.toString().slice(0, 200)}`);
  return body;
}

/** One unit of bench work, as each contender asks for it. */
export interface BenchKey {
  /** Marquee's URL path. */
  marquee: string;
  /** ipx's URL path: `/s_WxH,f_webp,q_Q/<source key>`. */
  ipx: string;
  sourceKey: string;
  width: number;
  height: number;
  quality: number;
}

/** WebP quality as the rules set it: 80 for the `small` class (≤ 480 px wide), else 75. */
export function webpQuality(width: number): number {
  return width <= 480 ? 80 : 75;
}

/**
 * The bench universe: titles without flags (so Marquee draws no badge overlays that ipx would
 * not), boxshots and billboards (same aspect as their sources: no crop), WebP, locales that
 * the catalog holds, most popular first as in the scenarios.
 */
export function benchKeys(catalog: Catalog): BenchKey[] {
  const titles = Object.keys(catalog.titles)
    .filter((id) => {
      const title = catalog.titles[id];
      return title !== undefined && (title.flags ?? []).length === 0;
    })
    .sort();
  const universe: Universe = {
    titles,
    types: SEEDED_UNIVERSE.types
      .filter((t) => t.name !== 'logo')
      .map((t) => ({ ...t, formats: [{ ext: 'webp' as const, accept: 'image/webp', weight: 1 }] })),
    locales: SEEDED_UNIVERSE.locales,
  };
  const out: BenchKey[] = [];
  for (const k of enumerateKeys(universe)) {
    const locale = decodeURIComponent(k.path.split('locale=')[1] ?? 'en');
    const source = catalog.titles[k.titleId]?.artwork[k.type]?.[locale]?.source;
    if (!source) continue;
    const quality = webpQuality(k.width);
    out.push({
      marquee: k.path,
      ipx: `/s_${k.width}x${k.height},f_webp,q_${quality}/${source}`,
      sourceKey: source,
      width: k.width,
      height: k.height,
      quality,
    });
  }
  return out;
}

/** Copies the sources the keys use from the local S3 into `dir` (for ipx) and returns them by key (for raw sharp). */
export async function fetchSources(
  s3Endpoint: string,
  keys: readonly BenchKey[],
  dir: string,
): Promise<Map<string, Buffer>> {
  const buffers = new Map<string, Buffer>();
  for (const key of new Set(keys.map((k) => k.sourceKey))) {
    const body = await getObject(s3Endpoint, key);
    buffers.set(key, body);
    const file = path.join(dir, key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body);
  }
  return buffers;
}

export async function fetchCatalog(s3Endpoint: string): Promise<Catalog> {
  return JSON.parse((await getObject(s3Endpoint, 'catalog.json')).toString('utf8')) as Catalog;
}
