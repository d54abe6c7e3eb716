import { MarqueeError, extensionOf, type Catalog, type Format, type Preview } from '@marquee/shared';
import { formatArtworkFile } from '../routes/artwork-url.js';
import { isLocaleTag } from '../rules/locale.js';
import { resolveArtwork, type Resolution, type ResolveState } from '../rules/resolve.js';
import type { Rules } from '../rules/schema.js';
import { TITLE_ID } from '../rules/semantics.js';
import { isStagingKey } from './upload.js';

/** What a preview renders: a catalog title's artwork, or a staged upload standing in for one. */
export interface PreviewTarget {
  type: string;
  titleId?: string | undefined;
  src?: string | undefined;
  locale?: string | undefined;
  width: number;
  height: number;
  dpr: number;
  format: Format;
}

export type Rendered = Extract<Resolution, { kind: 'render' }>;

/** The title id a staged upload is resolved under: no catalog id looks like it (ids have no `:`). */
const UPLOAD_TITLE = 'upload:staged';

/**
 * A one-title catalog holding the upload as the type's artwork in the default locale: the rules
 * then decide its spec as they would for a published title without flags.
 */
function uploadCatalog(rules: Rules, type: string, src: string): Catalog {
  return {
    version: 1,
    titles: {
      [UPLOAD_TITLE]: {
        name: 'Uploaded artwork',
        flags: [],
        // The staging key is new for every upload, so it versions itself.
        artwork: { [type]: { [rules.defaultLocale]: { source: src, version: 'staged' } } },
      },
    },
  };
}

/**
 * Resolves a preview exactly as `GET /v1/artwork/{type}/{titleId}/{W}x{H}[@Nx].{ext}?locale=`
 * resolves it (`resolveArtwork`), under `rules` (those in force or a draft's) and the catalog
 * in force: the same spec and spec key, so the same bytes. A size the rules would redirect is
 * refused: a preview shows what a URL serves, not what it redirects to.
 */
export function resolvePreview(rules: Rules, catalog: Catalog, sourcesBucket: string, t: PreviewTarget): Rendered {
  if ((t.titleId === undefined) === (t.src === undefined)) {
    throw new MarqueeError('INVALID_PARAMETER', 'name either a titleId or an uploaded src');
  }
  if (t.titleId !== undefined && !TITLE_ID.test(t.titleId)) {
    throw new MarqueeError('INVALID_PARAMETER', 'titleId: expected 1-64 of A-Z a-z 0-9 _ -');
  }
  if (t.src !== undefined && !isStagingKey(t.src)) {
    throw new MarqueeError('SOURCE_NOT_ALLOWED', 'src: only a staged upload renders without a title');
  }
  if (t.locale !== undefined && !isLocaleTag(t.locale)) {
    throw new MarqueeError('INVALID_PARAMETER', 'locale: expected a BCP 47 tag like pt-BR');
  }
  const state: ResolveState = {
    rules,
    catalog: t.src === undefined ? catalog : uploadCatalog(rules, t.type, t.src),
    sourcesBucket,
  };
  const resolution = resolveArtwork(state, {
    type: t.type,
    titleId: t.titleId ?? UPLOAD_TITLE,
    width: t.width,
    height: t.height,
    dpr: t.dpr,
    ext: extensionOf(t.format),
    ...(t.locale !== undefined ? { locale: t.locale } : {}),
  });
  if (resolution.kind === 'redirect') {
    const target = formatArtworkFile(resolution.width, resolution.height, resolution.dpr, extensionOf(t.format));
    throw new MarqueeError(
      'SIZE_NOT_ALLOWED',
      `${t.width}x${t.height} is not a ${t.type} size of these rules: the artwork route redirects it to ${target}`,
    );
  }
  return resolution;
}

/** The artwork URL production answers with these bytes (catalog titles only). */
export function artworkUrlOf(t: PreviewTarget): string | undefined {
  if (t.titleId === undefined) return undefined;
  const file = formatArtworkFile(t.width, t.height, t.dpr, extensionOf(t.format));
  const query = t.locale === undefined ? '' : `?locale=${encodeURIComponent(t.locale)}`;
  return `/v1/artwork/${t.type}/${t.titleId}/${file}${query}`;
}

/** What the page shows of a resolution, with the signed URL that renders it. */
export function previewOf(t: PreviewTarget, resolution: Rendered, url: string): Preview {
  const { spec } = resolution;
  const artworkUrl = artworkUrlOf(t);
  return {
    url,
    key: resolution.key,
    ...(artworkUrl !== undefined ? { artworkUrl } : {}),
    locale: resolution.locale,
    width: spec.width,
    height: spec.height,
    quality: spec.quality,
    ...(spec.effort !== undefined ? { effort: spec.effort } : {}),
    fit: spec.fit,
    badges: (spec.overlays ?? []).map((o) => ('s3' in o.source ? o.source.s3.key : o.source.url)),
  };
}
