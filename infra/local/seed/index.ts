import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { ArtworkEntry, Catalog, Title } from '@marquee/shared';
import { photoFocal, renderLogo, renderPhoto, renderPhotoBase } from './artwork.js';
import { BADGE_KEYS, renderBadge, type Badge } from './badges.js';
import { CATALOG_KEY } from './catalog.js';
import pLimit from 'p-limit';
import {
  ARTWORK_SOURCES,
  ARTWORK_TYPES,
  LOGO_FOCAL,
  SHOWCASE,
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
  /**
   * Resolve once the showcase titles (the ones `npm start` prints URLs of) are in the bucket with
   * the whole catalog, and render the others after: `complete` settles when they are in. The
   * catalog is written once, complete, so the Preprocessor never reloads it (nor prewarms it);
   * until then a title not yet rendered answers 404 (its source is missing).
   */
  background?: boolean;
  /** Stops a background seed between images (the next start seeds again). */
  signal?: AbortSignal;
  /** Plain-text progress, for a person watching the start. */
  progress?: (line: string) => void;
}

export interface SeedResult {
  catalog: Catalog;
  /** false: the bucket already held a complete catalog, returned as is. */
  seeded: boolean;
  /** Settles when every title's artwork is in the bucket (at once, unless `background`). */
  complete: Promise<void>;
  /** Titles whose artwork is in the bucket when this resolves. */
  ready: number;
}

/** Images rendered at once: sharp already uses every core per image; more only adds memory. */
const PARALLEL = 2;
const DEFAULT_TITLES = 24;
const CONTENT_TYPE = { jpeg: 'image/jpeg', png: 'image/png' } as const;
/**
 * Object metadata on a catalog whose artwork is still being rendered: a start that finds it
 * seeds again (the last one was interrupted). S3 ETags hash the body alone, so rewriting the
 * catalog without it is no change to the Preprocessor polling it.
 */
const PARTIAL = { 'marquee-seed': 'partial' } as const;

/** The bucket's sample catalog, unless it is missing or its seed was interrupted. */
async function readCatalog(client: S3Client, bucket: string): Promise<Catalog | undefined> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: CATALOG_KEY }));
    const text = (await object.Body?.transformToString()) ?? '';
    if (object.Metadata?.['marquee-seed'] === PARTIAL['marquee-seed']) return undefined;
    return JSON.parse(text) as Catalog;
  } catch (err) {
    if (err instanceof NoSuchKey) return undefined;
    throw err;
  }
}

/** The catalog entry of one artwork: known before it is rendered (keys, versions and focal points do not depend on pixels). */
function plannedEntry(plan: TitlePlan, type: ArtworkType, locale: string): ArtworkEntry {
  const { width, height } = ARTWORK_SOURCES[type];
  const focal =
    type === 'logo' ? (plan.logoFocal ? LOGO_FOCAL : undefined) : plan.photoFocal ? photoFocal(plan, type) : undefined;
  return { source: sourceKey(plan.id, type, locale), version: '1', ...(focal ? { focal } : {}), width, height };
}

/** A title's catalog entry, every type and locale. */
function plannedTitle(plan: TitlePlan): Title {
  const artwork: Title['artwork'] = {};
  for (const type of ARTWORK_TYPES) {
    artwork[type] = Object.fromEntries(plan.locales.map((locale) => [locale, plannedEntry(plan, type, locale)]));
  }
  return { name: plan.name, flags: plan.flags, artwork };
}

/** Renders and uploads every locale of one title's artwork type; answers how many images. */
async function seedArtwork(client: S3Client, bucket: string, plan: TitlePlan, type: ArtworkType): Promise<number> {
  const { format } = ARTWORK_SOURCES[type];
  const base = type === 'logo' ? undefined : await renderPhotoBase(plan, type);
  for (const locale of plan.locales) {
    const body =
      type === 'logo' || base === undefined
        ? await renderLogo(plan, locale)
        : await renderPhoto(base, plan, type, locale);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: sourceKey(plan.id, type, locale),
        Body: body,
        ContentType: CONTENT_TYPE[format],
      }),
    );
  }
  return plan.locales.length;
}

/** Writes the catalog document (with `metadata` while artwork is still being rendered). */
async function putCatalog(client: S3Client, bucket: string, catalog: Catalog, metadata?: Record<string, string>) {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: CATALOG_KEY,
      Body: JSON.stringify(catalog, null, 2),
      ContentType: 'application/json',
      ...(metadata ? { Metadata: metadata } : {}),
    }),
  );
}

const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;
/** `1 title`, `24 titles`: progress lines read as English for any count. */
const counted = (n: number, one: string): string => `${n} ${n === 1 ? one : `${one}s`}`;

/**
 * Fills the sources bucket with generated sample artwork (boxshots,
 * billboards, logos in several locales, badges) and its `catalog.json`.
 * Idempotent: a bucket that already holds a complete catalog is left alone unless `force`.
 */
export async function seedSamples(options: SeedOptions): Promise<SeedResult> {
  const { client, sourcesBucket: bucket, logger, progress } = options;
  const count = options.titles ?? DEFAULT_TITLES;
  if (!Number.isInteger(count) || count < 1 || count > TITLE_NAMES.length) {
    throw new RangeError(`seed: titles must be an integer in 1..${TITLE_NAMES.length}, got ${count}`);
  }
  if (!options.force) {
    const existing = await readCatalog(client, bucket);
    if (existing !== undefined) {
      logger?.info({ bucket, titles: Object.keys(existing.titles).length }, 'sample catalog already present');
      const ready = Object.keys(existing.titles).length;
      return { catalog: existing, seeded: false, complete: Promise.resolve(), ready };
    }
  }

  const started = performance.now();
  const plans = Array.from({ length: count }, (_, i) => planTitle(i));
  const catalog: Catalog = {
    version: 1,
    titles: Object.fromEntries(plans.map((plan) => [plan.id, plannedTitle(plan)])),
  };
  // The titles `npm start` shows first, so a background seed can answer them before the rest.
  const first = options.background ? plans.filter((p) => SHOWCASE.includes(p.index)) : plans;
  const rest = options.background ? plans.filter((p) => !SHOWCASE.includes(p.index)) : [];
  let images = 0;
  const seedTitles = async (batch: TitlePlan[]): Promise<void> => {
    const jobs = batch.flatMap((plan) => ARTWORK_TYPES.map((type) => ({ plan, type })));
    // Stopped between images, not in the middle of one: when this settles nothing is writing.
    await pLimit(PARALLEL).map(jobs, async ({ plan, type }) => {
      if (options.signal?.aborted) return;
      images += await seedArtwork(client, bucket, plan, type);
    });
    options.signal?.throwIfAborted();
  };

  progress?.(
    rest.length > 0
      ? `rendering sample artwork: ${first.length} of ${count} titles first`
      : `rendering sample artwork: ${counted(count, 'title')}`,
  );
  await pLimit(PARALLEL).map(Object.keys(BADGE_KEYS) as Badge[], async (badge) => {
    const body = await renderBadge(badge);
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: BADGE_KEYS[badge], Body: body, ContentType: 'image/png' }),
    );
  });
  await seedTitles(first);

  const finish = () =>
    logger?.info(
      { bucket, titles: count, images, ms: Math.round(performance.now() - started) },
      'seeded sample artwork',
    );
  if (rest.length === 0) {
    // The catalog goes last: an interrupted seed leaves no catalog, so the next start seeds again.
    await putCatalog(client, bucket, catalog);
    progress?.(`sample artwork ready: ${counted(count, 'title')}, ${counted(images, 'image')} (${seconds(started)})`);
    finish();
    return { catalog, seeded: true, complete: Promise.resolve(), ready: count };
  }

  // The whole catalog now, marked partial until the rest is rendered.
  await putCatalog(client, bucket, catalog, PARTIAL);
  progress?.(
    `sample artwork: ${counted(first.length, 'title')} ready (${seconds(started)}); ${rest.length} more rendering in the background`,
  );
  const complete = seedTitles(rest).then(async () => {
    await putCatalog(client, bucket, catalog);
    finish();
  });
  // Settled by whoever awaits it (the stack, at close); never an unhandled rejection.
  complete.catch(() => undefined);
  return { catalog, seeded: true, complete, ready: first.length };
}

export { CATALOG_KEY } from './catalog.js';
export type { Catalog } from '@marquee/shared';
export { BADGE_KEYS, type Badge } from './badges.js';
export { ARTWORK_SOURCES, ARTWORK_TYPES, FIRST_TITLE_ID, TITLE_NAMES, type ArtworkType } from './titles.js';
