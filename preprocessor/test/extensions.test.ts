// The URL parser, the rules, the studio's previews and staged uploads all spell formats through
// @marquee/shared's one table: a request extension parses, resolves to its format and comes back.
import t from 'tap';
import { FORMATS, REQUEST_EXTENSIONS, extensionOf, formatOfExtension, type Format } from '@marquee/shared';
import { formatArtworkFile, parseArtworkFile } from '../src/routes/artwork-url.js';
import { resolveArtwork } from '../src/rules/resolve.js';
import { artworkUrlOf, resolvePreview } from '../src/studio/resolve-preview.js';
import { isStagingKey } from '../src/studio/upload.js';
import { SOURCES_BUCKET, req, state } from './rules/fixtures.js';

/** A type and size of the default rules that allows each format (logos have no JPEG, boxshots no PNG). */
const TARGET: Record<Format, { type: string; width: number; height: number }> = {
  jpeg: { type: 'boxshot', width: 342, height: 513 },
  png: { type: 'logo', width: 300, height: 100 },
  webp: { type: 'boxshot', width: 342, height: 513 },
  avif: { type: 'logo', width: 300, height: 100 },
};

t.test('the URL parser takes every request extension, in any case', async (t) => {
  for (const ext of REQUEST_EXTENSIONS) {
    t.equal(parseArtworkFile(`342x513.${ext}`).ext, ext, ext);
    t.equal(parseArtworkFile(`342x513.${ext.toUpperCase()}`).ext, ext, `${ext} upper-case`);
  }
  t.throws(() => parseArtworkFile('342x513.gif'), {
    message: `format: expected one of ${REQUEST_EXTENSIONS.join(', ')}, got "gif"`,
  });
});

t.test('every format: URL extension → rules → preview → URL, one spelling throughout', async (t) => {
  for (const format of FORMATS) {
    const ext = extensionOf(format);
    const { type, width, height } = TARGET[format];
    const fromUrl = resolveArtwork(
      state,
      req({ type, width, height, ext: parseArtworkFile(`${width}x${height}.${ext}`).ext }),
    );
    t.equal(fromUrl.kind, 'render', `${format}: renders`);
    if (fromUrl.kind !== 'render') continue;
    t.equal(fromUrl.format, format, `${ext} resolves to ${format}`);
    t.equal(formatOfExtension(ext), format);

    const target = { type, titleId: '80000001', width, height, dpr: 1, format };
    const preview = resolvePreview(state.rules, state.catalog, SOURCES_BUCKET, target);
    t.equal(preview.key, fromUrl.key, `${format}: the preview is the URL's image`);
    t.equal(
      artworkUrlOf(target),
      `/v1/artwork/${type}/80000001/${formatArtworkFile(width, height, 1, ext)}`,
      `${format}: the preview links the URL spelled ${ext}`,
    );
    t.ok(isStagingKey(`staging/${'0'.repeat(32)}.${ext}`), `${format}: a staged upload is stored as .${ext}`);
  }
  t.notOk(isStagingKey(`staging/${'0'.repeat(32)}.jpeg`), 'staged uploads use the extension, not the format name');
});

t.test('a refused format lists the allowed ones by extension', async (t) => {
  t.throws(() => resolveArtwork(state, req({ ext: 'png' })), {
    code: 'FORMAT_NOT_ALLOWED',
    extra: { allowedFormats: ['avif', 'webp', 'jpg'] },
  });
});
