import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  FocalPointSchema,
  Type,
  contentTypeOf,
  extensionOf,
  formatOfExtension,
  type ArtworkEntry,
  type Catalog,
  type FocalPoint,
  type Format,
  type Title,
} from '@marquee/shared';
import { BADGE_KEYS, renderBadge, type Badge } from '../seed/badges.js';
import pLimit from 'p-limit';
import { readLayout, type ArtworkFile, type SkippedFile, type TitleFolder } from './layout.js';
import { MAX_UPLOAD_BYTES, canonicalLocale, checkUpload, type CheckedImage } from './preprocessor-checks.js';

export { readRulesOutline, type RulesOutline } from './rules-outline.js';
export { LAYOUT_HINT, type SkippedFile } from './layout.js';

/** Where an import keeps its catalog, apart from the sample catalog (`catalog.json`), which it leaves alone. */
export const IMPORT_CATALOG_KEY = 'imported/catalog.json';
/** Where imported sources go: `imported/<titleId>/<type>/<locale>.<ext>`. */
export const IMPORT_PREFIX = 'imported/';

/** Files checked at once: the check decodes each image (sharp already uses every core per image). */
const PARALLEL = 2;
/** Hex digits of the content hash kept as the version: enough to tell any two revisions of a file apart. */
const VERSION_DIGITS = 16;

const Sidecar = TypeCompiler.Compile(
  Type.Object({ focal: Type.Optional(FocalPointSchema) }, { additionalProperties: false }),
);
const TitleDoc = TypeCompiler.Compile(
  Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      flags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
    },
    { additionalProperties: false },
  ),
);

/** One image imported: where it came from, what the catalog says of it. */
export interface ImportedImage {
  titleId: string;
  type: string;
  /** In the artwork route's spelling. */
  locale: string;
  /** Relative to the folder. */
  file: string;
  key: string;
  /** The first hex digits of the content's SHA-256: a changed file is a new version, an unchanged one is not. */
  version: string;
  format: Format;
  width: number;
  height: number;
  focal?: FocalPoint;
}

export interface ImportReport {
  dir: string;
  catalog: Catalog;
  images: ImportedImage[];
  skipped: SkippedFile[];
  /** Files imported with a word: their name says another format than their bytes (a PNG named `.jpg`). */
  warnings: SkippedFile[];
  /** Images new or changed since the previous import (all of them on the first). */
  changed: ImportedImage[];
  /** Whether the catalog object was written (false: the folder's content is what is served already). */
  written: boolean;
  ms: number;
}

export interface ImportOptions {
  dir: string;
  client: S3Client;
  bucket: string;
  /** The rules' artwork types: an image of another type is skipped. Undefined: not checked. */
  types: ReadonlySet<string> | undefined;
  /** The rules' default locale: the locale of `<type>.<ext>`. */
  defaultLocale: string;
  /** The last import of the same folder: unchanged files are not read again, nor uploaded. */
  previous?: ImportReport;
}

/** What a file's check found, kept by its stat so an unchanged file is not read again. */
interface Checked {
  fingerprint: string;
  image?: CheckedImage;
  version?: string;
  error?: string;
}
const checks = new WeakMap<ImportReport, Map<string, Checked>>();

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const FORMAT_NAMES: Record<Format, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF' };

/** Why a file's name misleads about its bytes (`.jpg` holding a PNG), or undefined when it does not. */
function misnamed(file: string, format: Format): string | undefined {
  const ext = file.slice(file.lastIndexOf('.') + 1);
  if (formatOfExtension(ext.toLowerCase()) === format) return undefined;
  const named = formatOfExtension(ext.toLowerCase());
  const says = named === undefined ? `.${ext}` : `.${ext} (${FORMAT_NAMES[named]})`;
  return `a ${FORMAT_NAMES[format]} named ${says}: imported as the ${FORMAT_NAMES[format]} it is`;
}

/** Reads, hashes and checks one file as the studio checks an upload. */
async function checkFile(file: ArtworkFile, known: Map<string, Checked> | undefined): Promise<Checked> {
  let fingerprint: string;
  try {
    const st = await stat(file.path);
    fingerprint = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const before = known?.get(file.path);
    if (before?.fingerprint === fingerprint) return before;
    if (st.size > MAX_UPLOAD_BYTES)
      return { fingerprint, error: `larger than the studio's upload limit (${MAX_UPLOAD_BYTES / 1024 / 1024} MiB)` };
  } catch (err) {
    return { fingerprint: '', error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? message(err)}` };
  }
  try {
    const body = await readFile(file.path);
    const image = await checkUpload(body);
    const version = createHash('sha256').update(body).digest('hex').slice(0, VERSION_DIGITS);
    return { fingerprint, image, version };
  } catch (err) {
    return { fingerprint, error: message(err) };
  }
}

async function readJson(where: { file: string; path: string }, skipped: SkippedFile[]): Promise<unknown> {
  try {
    return JSON.parse(await readFile(where.path, 'utf8')) as unknown;
  } catch (err) {
    skipped.push({ file: where.file, reason: err instanceof SyntaxError ? `not JSON: ${err.message}` : message(err) });
    return undefined;
  }
}

/** The title's name and flags from `title.json` (its folder name and none, without one or with a bad one). */
async function titleInfo(folder: TitleFolder, skipped: SkippedFile[]): Promise<Pick<Title, 'name' | 'flags'>> {
  const fallback = { name: folder.titleId, flags: [] };
  if (!folder.titleFile) return fallback;
  const doc = await readJson(folder.titleFile, skipped);
  if (doc === undefined) return fallback;
  if (!TitleDoc.Check(doc)) {
    const first = TitleDoc.Errors(doc).First();
    skipped.push({
      file: folder.titleFile.file,
      reason: `expected { "name": "…", "flags": ["top10", …] }: ${first?.path || '/'} ${first?.message ?? 'is invalid'}`,
    });
    return fallback;
  }
  return { name: doc.name ?? folder.titleId, flags: doc.flags ?? [] };
}

/** The focal point of each type from its sidecar; a bad sidecar is reported and its type has none. */
async function focalPoints(folder: TitleFolder, skipped: SkippedFile[]): Promise<Map<string, FocalPoint>> {
  const out = new Map<string, FocalPoint>();
  for (const [type, where] of folder.sidecars) {
    const doc = await readJson(where, skipped);
    if (doc === undefined) continue;
    if (!Sidecar.Check(doc)) {
      const first = Sidecar.Errors(doc).First();
      skipped.push({
        file: where.file,
        reason: `expected { "focal": { "x": 0..1, "y": 0..1 } }: ${first?.path || '/'} ${first?.message ?? 'is invalid'}`,
      });
      continue;
    }
    if (doc.focal) out.set(type, doc.focal);
  }
  return out;
}

/** Whether `key` already holds this content (a restart over the same folder uploads nothing). */
async function holds(client: S3Client, bucket: string, key: string, version: string): Promise<boolean> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.['marquee-version'] === version;
  } catch (err) {
    if (err instanceof NotFound) return false;
    throw err;
  }
}

/** The badges the rules draw by flag: imported titles may carry flags too. */
async function ensureBadges(client: S3Client, bucket: string): Promise<void> {
  await pLimit(PARALLEL).map(Object.keys(BADGE_KEYS) as Badge[], async (badge) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: BADGE_KEYS[badge] }));
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      const body = await renderBadge(badge);
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: BADGE_KEYS[badge], Body: body, ContentType: 'image/png' }),
      );
    }
  });
}

/**
 * Imports a folder of artwork (see `layout.ts`) into the sources bucket and the import catalog:
 * each file checked as the studio checks an upload, a bad one reported by name and skipped, never
 * fatal; versions from content hashes; focal points only from sidecars. Only what changed since
 * `previous` is read and uploaded, and the catalog is written only when it changed. Throws only
 * when the folder itself cannot be read or the bucket cannot be written.
 */
export async function importImages(options: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const { dir, client, bucket, types, previous } = options;
  const layout = await readLayout(dir);
  const skipped = [...layout.skipped];
  const warnings: SkippedFile[] = [];
  const known = previous ? checks.get(previous) : undefined;
  const seen = new Map<string, Checked>();
  const before = new Map((previous?.images ?? []).map((image) => [image.key, image.version]));

  const images: ImportedImage[] = [];
  const changed: ImportedImage[] = [];
  /** Key → the file it is uploaded from. */
  const paths = new Map<string, string>();
  const titles: Record<string, Title> = {};
  for (const folder of layout.titles) {
    const info = await titleInfo(folder, skipped);
    const focal = await focalPoints(folder, skipped);
    const artwork: Title['artwork'] = {};
    // Checked in order (sorted names), so which of two files naming one artwork wins is stable.
    const results = await pLimit(PARALLEL).map(folder.artwork, (file) => checkFile(file, known));
    const claimed = new Map<string, string>();
    for (const [i, file] of folder.artwork.entries()) {
      const result = results[i]!;
      seen.set(file.path, result);
      if (types !== undefined && !types.has(file.type)) {
        const names = [...types].join(', ');
        skipped.push({ file: file.file, reason: `"${file.type}" is not an artwork type of the rules (${names})` });
        continue;
      }
      if (result.error !== undefined || result.image === undefined || result.version === undefined) {
        skipped.push({ file: file.file, reason: result.error ?? 'not checked' });
        continue;
      }
      const locale = canonicalLocale(file.locale ?? options.defaultLocale);
      const slot = `${file.type}/${locale.toLowerCase()}`;
      const other = claimed.get(slot);
      if (other !== undefined) {
        skipped.push({ file: file.file, reason: `${other} is already the ${file.type} for ${locale}` });
        continue;
      }
      claimed.set(slot, file.file);
      const { format, width, height } = result.image;
      const word = misnamed(file.file, format);
      if (word !== undefined) warnings.push({ file: file.file, reason: word });
      const key = `${IMPORT_PREFIX}${file.titleId}/${file.type}/${locale}.${extensionOf(format)}`;
      const typeFocal = focal.get(file.type);
      const image: ImportedImage = {
        titleId: file.titleId,
        type: file.type,
        locale,
        file: file.file,
        key,
        version: result.version,
        format,
        width,
        height,
        ...(typeFocal ? { focal: typeFocal } : {}),
      };
      images.push(image);
      paths.set(key, file.path);
      if (before.get(key) !== image.version) changed.push(image);
      const entry: ArtworkEntry = { source: key, version: image.version, width, height };
      if (typeFocal) entry.focal = typeFocal;
      (artwork[file.type] ??= {})[locale] = entry;
    }
    if (Object.keys(artwork).length > 0) titles[folder.titleId] = { ...info, artwork };
  }

  await pLimit(PARALLEL).map(changed, async (image) => {
    if (previous === undefined && (await holds(client, bucket, image.key, image.version))) return;
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: image.key,
        Body: await readFile(paths.get(image.key)!),
        ContentType: contentTypeOf(image.format),
        Metadata: { 'marquee-version': image.version },
      }),
    );
  });
  await ensureBadges(client, bucket);

  const catalog: Catalog = { version: 1, titles };
  const text = JSON.stringify(catalog, null, 2);
  const written = previous === undefined || text !== JSON.stringify(previous.catalog, null, 2);
  // Last: the catalog names only sources already in the bucket.
  if (written) {
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: IMPORT_CATALOG_KEY, Body: text, ContentType: 'application/json' }),
    );
  }
  const report: ImportReport = {
    dir,
    catalog,
    images,
    skipped,
    warnings,
    changed,
    written,
    ms: Math.round(performance.now() - started),
  };
  checks.set(report, seen);
  return report;
}
