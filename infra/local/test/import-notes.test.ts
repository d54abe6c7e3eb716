// What an import says of single files: a file whose name says another format than its bytes (a
// PNG named `.jpg`) is imported with a warning, shown like the skipped files, in the banner and
// after each re-import (main.ts prints `fileNotes`; e2e-images.test.ts sees it live).
import t from 'tap';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { importImages } from '../import/index.js';
import { localS3Client, startLocalS3 } from '../s3/index.js';
import { banner, fileNotes } from '../stack/banner.js';

const png = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: '#3366aa' } })
    .png()
    .toBuffer();

t.test('a PNG named .jpg is imported as the PNG it is, with a warning; the notes read as English', async (t) => {
  const dir = t.testdir({
    art: {
      t1: { 'boxshot.jpg': await png(200, 300), 'logo.png': await png(300, 100) },
      t2: { 'logo.png': 'truncated' },
    },
  });
  const s3 = await startLocalS3({ directory: await mkdtemp(path.join(dir, 's3-')), buckets: ['b'] });
  t.teardown(() => s3.close());
  const client = localS3Client(s3.endpoint);
  t.teardown(() => client.destroy());
  const report = await importImages({
    dir: path.join(dir, 'art'),
    client,
    bucket: 'b',
    types: new Set(['boxshot', 'billboard', 'logo']),
    defaultLocale: 'en',
  });
  t.same(
    report.images.map((i) => [i.file, i.format, i.key]),
    [
      ['t1/boxshot.jpg', 'png', 'imported/t1/boxshot/en.png'],
      ['t1/logo.png', 'png', 'imported/t1/logo/en.png'],
    ],
    'imported as PNG',
  );
  t.same(report.warnings, [{ file: 't1/boxshot.jpg', reason: 'a PNG named .jpg (JPEG): imported as the PNG it is' }]);
  t.same(
    report.skipped.map((s) => s.file),
    ['t2/logo.png'],
  );

  const notes = fileNotes(report);
  t.same(notes, [
    '',
    'Skipped 1 file (not imported):',
    notes[2],
    '',
    'Imported 1 file with a warning:',
    '  t1/boxshot.jpg  a PNG named .jpg (JPEG): imported as the PNG it is',
  ]);
  t.match(notes[2], /^ {2}t2\/logo\.png {2}The file is not a .*image$/);
  t.same(fileNotes({ skipped: [], warnings: [] }), [], 'nothing to say: nothing printed');
  const shown = banner({
    seconds: 1,
    base: 'http://127.0.0.1:8080',
    urls: [],
    serving: 'Serving…',
    skipped: report.skipped,
    warnings: report.warnings,
    studio: { url: 'http://127.0.0.1:8080/studio', token: undefined },
    metricsUrl: 'http://127.0.0.1:8080/metrics',
    dataDir: '/tmp/data',
    rules: 'rules.yaml',
  });
  t.ok(shown.includes(notes.join('\n')), 'the banner shows the same block');
});
