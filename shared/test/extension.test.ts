import t from 'tap';
import {
  FORMATS,
  FORMAT_EXTENSIONS,
  REQUEST_EXTENSIONS,
  derivativeKey,
  extensionOf,
  formatOfExtension,
  requestExtensionOf,
} from '@marquee/shared';

t.test('the table: JPEG is jpg, every other format its own name', async (t) => {
  t.same(FORMAT_EXTENSIONS, { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' });
  t.same(Object.keys(FORMAT_EXTENSIONS), [...FORMATS], 'one extension for each format, in the formats order');
  t.same(REQUEST_EXTENSIONS, ['jpg', 'png', 'webp', 'avif', 'auto']);
});

t.test('every format goes to its extension and back', async (t) => {
  for (const format of FORMATS) t.equal(formatOfExtension(extensionOf(format)), format, format);
});

t.test('every request extension but auto names a format, and that format is served under it', async (t) => {
  for (const ext of REQUEST_EXTENSIONS) {
    const format = formatOfExtension(ext);
    if (ext === 'auto') {
      t.equal(format, undefined, 'auto is negotiated, not a format');
      continue;
    }
    t.ok(format, `${ext} names a format`);
    t.equal(extensionOf(format!), ext, `${ext} round-trips`);
  }
});

t.test('the spellings a URL may use', async (t) => {
  for (const ext of REQUEST_EXTENSIONS) t.equal(requestExtensionOf(ext), ext, ext);
  t.equal(requestExtensionOf('jpeg'), 'jpg', "a format's own name stands for its extension");
  for (const other of ['JPG', 'jpe', 'gif', 'bmp', 'svg', 'heif', '', 'constructor', '__proto__', 'toString']) {
    t.equal(requestExtensionOf(other), undefined, JSON.stringify(other));
  }
  t.equal(formatOfExtension('jpeg'), undefined, 'jpeg is a format, not an extension');
  t.equal(formatOfExtension('constructor'), undefined);
});

t.test('derivative objects are named with the same extension', async (t) => {
  const key = '0'.repeat(32);
  for (const format of FORMATS) t.equal(derivativeKey(key, format), `derivatives/${key}.${extensionOf(format)}`);
});
