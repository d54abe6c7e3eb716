import t from 'tap';
import { parseArtworkFile, formatArtworkFile } from '../src/routes/artwork-url.js';

t.test('sizes, DPR and formats parse', async (t) => {
  t.same(parseArtworkFile('342x513.jpg'), { width: 342, height: 513, dpr: 1, ext: 'jpg' });
  t.same(parseArtworkFile('342.webp'), { width: 342, height: undefined, dpr: 1, ext: 'webp' });
  t.same(parseArtworkFile('342x513@2x.avif'), { width: 342, height: 513, dpr: 2, ext: 'avif' });
  t.same(parseArtworkFile('171@3x.auto'), { width: 171, height: undefined, dpr: 3, ext: 'auto' });
  t.same(parseArtworkFile('10x10.jpeg').ext, 'jpg');
});

// Each of these is a URL a client or an attacker could send; each must be a 400, never a crash.
const bad = [
  '0x513.jpg',
  '342x0.jpg',
  '-1x5.jpg',
  'NaNx5.jpg',
  '342x513.bmp',
  '342x513.svg',
  '342x513',
  '342x513.',
  '123456x1.jpg',
  '1x123456.jpg',
  '342x513@0x.jpg',
  '342x513@2.jpg',
  '342X513.jpg',
  '3e2x5.jpg',
  '342x513.jpg.png',
  '..%2F..%2Fetc.jpg',
  ' 342x513.jpg',
  '0x0@0x.auto',
];
for (const file of bad) {
  t.test(`refused: ${file}`, async (t) => {
    t.throws(() => parseArtworkFile(file), { code: 'INVALID_PARAMETER', status: 400 });
  });
}

t.test('canonical names round-trip', async (t) => {
  t.equal(formatArtworkFile(342, 513, 1, 'jpg'), '342x513.jpg');
  t.equal(formatArtworkFile(342, 513, 2, 'auto'), '342x513@2x.auto');
  t.same(parseArtworkFile(formatArtworkFile(684, 1026, 3, 'webp')), { width: 684, height: 1026, dpr: 3, ext: 'webp' });
});
