import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { ArtworkEntry, Catalog, Title } from '@marquee/shared';
import { renderLogo, renderPhoto, renderPhotoBase } from './artwork.js';
import { BADGE_KEYS, renderBadge, type Badge } from './badges.js';
import { CATALOG_KEY } from './catalog.js';
import {
  ARTWORK_SOURCES,
  ARTWORK_TYPES,
  LOGO_FOCAL,
  TITLE_NAMES,
  planTitle,
  sourceKey,
  type ArtworkType,
  type TitlePlan,
} from './titles.js';

export interface SeedOptions {
  client: S3Client;
  sourcesBucket: string;
  /** How many sample titles (at most the number of invented names). Default 24. */
  titles?: number;
  /** Regenerate even when the bucket already holds a catalog. */
  force?: boolean;
  logger?: Logger;
}

export interface SeedResult {
  catalog: Catalog;
  /** false: the bucket already held a catalog, returned as is. */
  seeded: boolean;
}

/** Images rendered at once: sharp already uses every core per image; more only adds memory. */
const PARALLEL = 2;
const DEFAULT_TITLES = 24;
const CONTENT_TYPE = { jpeg: 'image/jpeg', png: 'image/png' } as const;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function readCatalog(client: S3Client, bucket: string): Promise<Catalog | undefined> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: CATALOG_KEY }));
    return JSON.parse((await object.Body?.transformToString()) ?? '') as Catalog;
  } catch (err) {
    if (err instanceof NoSuchKey) return undefined;
    throw err;
  }
}

/** Renders and uploads every locale of one title's artwork type; answers the catalog entries. */
async function seedArtwork(
  client: S3Client,
  bucket: string,
  plan: TitlePlan,
  type: ArtworkType,
): Promise<Record<string, ArtworkEntry>> {
  const { width, height, format } = ARTWORK_SOURCES[type];
  const base = type === 'logo' ? undefined : await renderPhotoBase(plan, type);
  const entries: Record<string, ArtworkEntry> = {};
  for (const locale of plan.locales) {
    const body =
      type === 'logo' || base === undefined ? await renderLogo(plan, locale) : await renderPhoto(base, locale);
    const key = sourceKey(plan.id, type, locale);
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: CONTENT_TYPE[format] }),
    );
    const focal =
      base !== undefined ? (plan.photoFocal ? base.focal : undefined) : plan.logoFocal ? LOGO_FOCAL : undefined;
    entries[locale] = { source: key, version: '1', ...(focal ? { focal } : {}), width, height };
  }
  return entries;
}

/**
 * Fills the sources bucket with generated sample artwork (boxshots,
 * billboards, logos in several locales, badges) and its `catalog.json`.
 * Idempotent: a bucket that already holds a catalog is left alone unless `force`.
 */
export async function seedSamples(options: SeedOptions): Promise<SeedResult> {
  const { client, sourcesBucket: bucket, logger } = options;
  const count = options.titles ?? DEFAULT_TITLES;
  if (!Number.isInteger(count) || count < 1 || count > TITLE_NAMES.length) {
    throw new RangeError(`seed: titles must be an integer in 1..${TITLE_NAMES.length}, got ${count}`);
  }
  if (!options.force) {
    const existing = await readCatalog(client, bucket);
    if (existing !== undefined) {
      logger?.info({ bucket, titles: Object.keys(existing.titles).length }, 'sample catalog already present');
      return { catalog: existing, seeded: false };
    }
  }

  const started = performance.now();
  const plans = Array.from({ length: count }, (_, i) => planTitle(i));
  const jobs = plans.flatMap((plan) => ARTWORK_TYPES.map((type) => ({ plan, type })));
  const artwork = await mapLimit(jobs, PARALLEL, ({ plan, type }) => seedArtwork(client, bucket, plan, type));
  await mapLimit(Object.keys(BADGE_KEYS) as Badge[], PARALLEL, async (badge) => {
    const body = await renderBadge(badge);
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: BADGE_KEYS[badge], Body: body, ContentType: 'image/png' }),
    );
  });

  const titles: Record<string, Title> = {};
  jobs.forEach(({ plan, type }, i) => {
    const title = (titles[plan.id] ??= { name: plan.name, flags: plan.flags, artwork: {} });
    title.artwork[type] = artwork[i] as Record<string, ArtworkEntry>;
  });
  const catalog: Catalog = { version: 1, titles };
  // The catalog goes last: an interrupted seed leaves no catalog, so the next start seeds again.
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: CATALOG_KEY,
      Body: JSON.stringify(catalog, null, 2),
      ContentType: 'application/json',
    }),
  );
  const images = artwork.reduce((n, entries) => n + Object.keys(entries).length, 0);
  logger?.info({ bucket, titles: count, images, ms: Math.round(performance.now() - started) }, 'seeded sample artwork');
  return { catalog, seeded: true };
}

export { CATALOG_KEY } from './catalog.js';
export type { Catalog } from '@marquee/shared';
export { BADGE_KEYS, type Badge } from './badges.js';
export { ARTWORK_SOURCES, ARTWORK_TYPES, FIRST_TITLE_ID, TITLE_NAMES, type ArtworkType } from './titles.js';
