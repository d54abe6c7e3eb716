import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ARTWORK_ROUTE, canonicalLocale, parseArtworkFile, formatArtworkFile } from './artwork-url.js';
import type { HotPath } from './artwork-hot.js';
import { resolveArtwork, type Resolution } from '../rules/resolve.js';
import { LOCALE_TAG } from '../rules/locale.js';
import { TITLE_ID } from '../rules/semantics.js';
import { refuseOtherMethods } from '../plugins/methods.js';
import { ResolutionMemo } from '../cache/resolution-memo.js';
import { etagMatches } from '../images.js';
import { artworkCacheTags, formatCacheTags } from '@marquee/shared';

/**
 * The one syntax check of an artwork URL: these schemas, then `parseArtworkFile` for the file
 * name. The rules engine trusts what passes (it checks only what the rules decide: the DPRs).
 */
const Params = Type.Object({
  type: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }),
  titleId: Type.String({ pattern: TITLE_ID.source }),
  file: Type.String({ minLength: 3, maxLength: 32 }),
});

const Query = Type.Object({
  // BCP 47 as catalogs use it: language, optional script/region/variant subtags.
  // Empty means the default locale, as if absent.
  locale: Type.Optional(Type.String({ pattern: `^(?:${LOCALE_TAG.source.slice(1, -1)})?$`, maxLength: 35 })),
  v: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
});

/** Snap redirects are as stable as the rules: cache them, but not for a year. */
const REDIRECT_CACHE_CONTROL = 'public, max-age=3600';

/** The path's last segment exactly as the client sent it (before percent-decoding). */
function rawLastSegment(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Only the parameters that select the image, in a fixed order: what CDNs key on. */
function imageSelectingQuery(query: { locale?: string | undefined; v?: string | undefined }): string {
  const search = new URLSearchParams();
  if (query.locale !== undefined) search.set('locale', query.locale);
  if (query.v !== undefined) search.set('v', query.v);
  return search.size > 0 ? `?${search.toString()}` : '';
}

/**
 * A resolution with what the route derives from it, made once per memo entry: on a cache hit
 * the route then only compares the URL's spelling and sets prepared strings.
 */
interface Resolved {
  resolution: Resolution;
  /** The canonical file name (or, for a snap redirect, the one to send the client to). */
  canonical: string;
  /** Whether the URL's `locale` is spelled in its canonical case (or absent). */
  localeCanonical: boolean;
  /** The redirect's `Location`, for a snap or a non-canonical spelling. */
  location: string;
  etag: string;
  /** The rendered image's pixel size, `WxH` (the spec's, DPR applied): `X-Artwork-Size`. */
  pixelSize: string;
  /** The cache tags header's value (`MARQUEE_CACHE_TAG_HEADER`): title, type, title+type, look. */
  cacheTags: string;
  /** The headers of a 200 from the output cache, as name/value pairs, less the request id and the body's. */
  hitHeaders: readonly string[];
}

function prepare(
  resolution: Resolution,
  type: string,
  titleId: string,
  ext: string,
  query: { locale?: string | undefined; v?: string | undefined },
  localeCanonical: boolean,
  tagHeader: string,
): Resolved {
  const canonical = formatArtworkFile(resolution.width, resolution.height, resolution.dpr, ext);
  const location = `/v1/artwork/${type}/${titleId}/${canonical}${imageSelectingQuery(query)}`;
  if (resolution.kind === 'redirect')
    return {
      resolution,
      canonical,
      localeCanonical,
      location,
      etag: '',
      pixelSize: '',
      cacheTags: '',
      hitHeaders: [],
    };
  const { spec } = resolution;
  const etag = `"${resolution.key}"`;
  const pixelSize = `${spec.width}x${spec.height}`;
  const cacheTags = formatCacheTags(tagHeader, artworkCacheTags({ type, titleId, spec }));
  const hitHeaders = [
    ...['x-content-type-options', 'nosniff', 'etag', etag, 'cache-control', resolution.cacheControl],
    ...(resolution.vary ? ['vary', 'Accept'] : []),
    ...['x-artwork-locale', resolution.locale, 'x-artwork-size', pixelSize, tagHeader, cacheTags, 'x-cache', 'hit'],
  ];
  return { resolution, canonical, localeCanonical, location, etag, pixelSize, cacheTags, hitHeaders };
}

export const artworkRoutes: FastifyPluginAsyncTypebox<{ hot?: HotPath }> = async (app, { hot }) => {
  const memo = new ResolutionMemo<Resolved>();
  // Artwork is read-only: other methods are told so (405 with Allow), not told the route is missing.
  refuseOtherMethods(app, '/v1/artwork/*', 'artwork');

  app.get(ARTWORK_ROUTE, { schema: { params: Params, querystring: Query } }, async (request, reply) => {
    const { type, titleId, file } = request.params;
    const { query } = request;
    if (query.locale === '') delete query.locale;
    const parsed = parseArtworkFile(file);
    const state = app.rulesPoller.current();
    // Only `auto` depends on Accept: explicit formats share one entry whatever the client sends.
    const memoKey = `${type}/${titleId}/${file}?${query.locale ?? ''}&${query.v ?? ''}${parsed.ext === 'auto' ? `#${request.headers.accept ?? ''}` : ''}`;
    let resolved = memo.get(state, memoKey);
    if (resolved === undefined) {
      // `pt-br` and `pt-BR` are one image: the other spellings are sent to the canonical one.
      const locale = query.locale === undefined ? undefined : canonicalLocale(query.locale);
      const resolution = resolveArtwork(
        { rules: state.rules, catalog: state.catalog, sourcesBucket: app.config.sourcesBucket },
        {
          type,
          titleId,
          width: parsed.width,
          ...(parsed.height !== undefined ? { height: parsed.height } : {}),
          dpr: parsed.dpr,
          ext: parsed.ext,
          ...(request.headers.accept !== undefined ? { accept: request.headers.accept } : {}),
          ...(locale !== undefined ? { locale } : {}),
          ...(query.v !== undefined ? { v: query.v } : {}),
        },
      );
      resolved = prepare(
        resolution,
        type,
        titleId,
        parsed.ext,
        { ...query, locale },
        locale === query.locale,
        app.config.cacheTagHeader,
      );
      memo.set(state, memoKey, resolved);
    }
    const { resolution } = resolved;

    reply.header('x-content-type-options', 'nosniff');
    // A snap redirect; or one spelling per image (no `@1x`, `jpeg`, `.JPG`, leading zeros or
    // percent-escapes; W-only spelled WxH; the locale in its canonical case): every other spelling
    // is sent to it, so the CDN keeps one entry, not one per spelling.
    if (
      resolution.kind === 'redirect' ||
      !resolved.localeCanonical ||
      rawLastSegment(request.url) !== resolved.canonical
    ) {
      reply.header('cache-control', REDIRECT_CACHE_CONTROL);
      return reply.redirect(resolved.location, 308);
    }

    const { etag } = resolved;
    reply.header('etag', etag);
    reply.header('cache-control', resolution.cacheControl);
    if (resolution.vary) reply.header('vary', 'Accept');
    reply.header('x-artwork-locale', resolution.locale);
    reply.header('x-artwork-size', resolved.pixelSize);
    // On the 304 too: a CDN revalidating an object refreshes its tags from the reply.
    reply.header(app.config.cacheTagHeader, resolved.cacheTags);
    if (etagMatches(request.headers['if-none-match'], etag)) {
      reply.header('x-cache', 'hit');
      return reply.code(304).send();
    }

    // The next GET of this exact URL (and Accept, for `auto`) is answered before the router.
    if (request.method === 'GET')
      hot?.remember(request.url, request.headers.accept, state, resolution.key, resolved.hitHeaders);
    const hit = app.images.hit(resolution.key);
    if (hit !== undefined) {
      reply.header('x-cache', 'hit');
      reply.header('content-type', hit.contentType);
      reply.header('content-length', hit.contentLength);
      return reply.send(hit.body);
    }
    const { image, cache, serverTiming } = await app.images.get({
      key: resolution.key,
      source: resolution.source,
      spec: resolution.spec,
      format: resolution.format,
      requestId: request.id,
      version: resolution.version,
    });
    reply.header('x-cache', cache);
    if (serverTiming !== undefined) reply.header('server-timing', serverTiming);
    reply.header('content-type', image.contentType);
    reply.header('content-length', image.contentLength);
    return reply.send(image.body);
  });
};
