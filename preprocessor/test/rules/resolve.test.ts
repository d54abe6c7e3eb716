import t from 'tap';
import { MarqueeError, parseImageSpec, specKey, type ErrorCode } from '@marquee/shared';
import {
  listTypes,
  resolveArtwork,
  type ArtworkRequest,
  type Resolution,
  type ResolveState,
} from '../../src/rules/resolve.js';
import { parseCatalog } from '../../src/rules/load.js';
import { at, catalogDoc, posterType, req, state, stateWith, SOURCES_BUCKET } from './fixtures.js';

type Render = Extract<Resolution, { kind: 'render' }>;

function render(r: ArtworkRequest, s: ResolveState = state): Render {
  const out = resolveArtwork(s, r);
  if (out.kind !== 'render') throw new Error(`expected a render, got ${JSON.stringify(out)}`);
  // Every spec the rules produce must pass the Generator's own validation.
  parseImageSpec(out.spec);
  return out;
}

function failure(r: ArtworkRequest, s: ResolveState = state): MarqueeError {
  try {
    const out = resolveArtwork(s, r);
    throw new Error(`expected an error, got ${JSON.stringify(out)}`);
  } catch (err) {
    if (err instanceof MarqueeError) return err;
    throw err;
  }
}

t.test('lookups: unknown type, unknown title, missing artwork', async (t) => {
  const cases: Array<[string, Partial<ArtworkRequest>, ErrorCode, number]> = [
    ['unknown type', { type: 'poster' }, 'UNKNOWN_TYPE', 404],
    // Regression guard: lookups must not reach Object.prototype.
    ['type named like a prototype member', { type: 'constructor' }, 'UNKNOWN_TYPE', 404],
    ['type __proto__', { type: '__proto__' }, 'UNKNOWN_TYPE', 404],
    ['unknown title', { titleId: '99999999' }, 'UNKNOWN_TITLE', 404],
    ['title named like a prototype member', { titleId: 'constructor' }, 'UNKNOWN_TITLE', 404],
    [
      'title without that type',
      { titleId: '80000002', type: 'billboard', width: 480, height: 270 },
      'ARTWORK_NOT_FOUND',
      404,
    ],
    ['no locale of the chain in the catalog', { titleId: '80000004' }, 'ARTWORK_NOT_FOUND', 404],
    ['no locale of an explicit chain', { titleId: '80000004', locale: 'pt-BR' }, 'ARTWORK_NOT_FOUND', 404],
  ];
  for (const [name, overrides, code, status] of cases) {
    const err = failure(req(overrides));
    t.equal(err.code, code, name);
    t.equal(err.status, status, `${name}: status`);
  }
  t.same(
    failure(req({ type: 'poster' })).extra,
    { types: ['boxshot', 'billboard', 'logo'] },
    'UNKNOWN_TYPE lists the types',
  );
});

t.test('locale: case-insensitive, along the chain, default when absent', async (t) => {
  const cases: Array<[string, Partial<ArtworkRequest>, string]> = [
    ['no locale: the default', {}, 'en'],
    ['empty locale: the default', { locale: '' }, 'en'],
    ['exact', { locale: 'pt-BR' }, 'pt-BR'],
    ['lower-case request, catalog spelling served', { locale: 'pt-br' }, 'pt-BR'],
    ['upper-case request', { locale: 'FR' }, 'fr'],
    ['stripped subtag: fr-CA → fr', { locale: 'fr-CA' }, 'fr'],
    ['unknown locale → default', { locale: 'de' }, 'en'],
    ['unknown region, no chain → strip then default', { locale: 'de-AT' }, 'en'],
    ['explicit chain pt-BR → pt', { titleId: '80000002', locale: 'pt-BR' }, 'pt'],
    ['explicit chain pt-BR → pt → en', { titleId: '80000003', locale: 'pt-BR' }, 'en'],
    ['explicit chain matched case-insensitively', { titleId: '80000002', locale: 'PT-br' }, 'pt'],
    ['chain of pt-PT reaches pt-BR before en', { locale: 'pt-PT' }, 'pt-BR'],
    ['no default artwork but the requested locale exists', { titleId: '80000004', locale: 'fr' }, 'fr'],
  ];
  for (const [name, overrides, locale] of cases) t.equal(render(req(overrides)).locale, locale, name);

  const sourceKey = (r: Render) => ('s3' in r.source ? r.source.s3.key : r.source.url);
  t.equal(
    sourceKey(render(req({ locale: 'pt-br' }))),
    'titles/80000001/boxshot/pt-BR.jpg',
    'the resolved locale picks the source',
  );
});

t.test('size policy snap (boxshot: 171x256, 342x513, 684x1026)', async (t) => {
  const cases: Array<[string, Partial<ArtworkRequest>, Resolution['kind'], string]> = [
    ['exact allowed size renders', { width: 342, height: 513 }, 'render', '342x513'],
    ['smaller: the smallest allowed size at or above', { width: 300, height: 450 }, 'redirect', '342x513'],
    ['between sizes', { width: 400, height: 600 }, 'redirect', '684x1026'],
    ['taller than the aspect: above in both dimensions', { width: 171, height: 300 }, 'redirect', '342x513'],
    ['wider than the aspect', { width: 500, height: 100 }, 'redirect', '684x1026'],
    ['tiny', { width: 1, height: 1 }, 'redirect', '171x256'],
    ['above every size: the largest', { width: 800, height: 1200 }, 'redirect', '684x1026'],
    ['W only, allowed width: redirect to the canonical WxH', { width: 342, height: undefined }, 'redirect', '342x513'],
    // 171 on 2:3 is 256.5; the allowed size's own height wins over rounding.
    ['W only, width of a rounded size', { width: 171, height: undefined }, 'redirect', '171x256'],
    ['W only, other width', { width: 200, height: undefined }, 'redirect', '342x513'],
  ];
  for (const [name, overrides, kind, size] of cases) {
    const out = resolveArtwork(state, req(overrides));
    t.equal(out.kind, kind, name);
    const got = out.kind === 'render' ? out.logicalSize : `${out.width}x${out.height}`;
    t.equal(got, size, `${name}: size`);
  }
  t.same(
    resolveArtwork(state, req({ width: 300, height: 450, dpr: 2 })),
    { kind: 'redirect', width: 342, height: 513, dpr: 2 },
    'the redirect keeps the DPR',
  );
});

t.test('snap picks among the sizes that fit the max at the requested DPR', async (t) => {
  // billboard max 3840x2160: 1920x1080 fits at 2x, not at 3x.
  const billboard = (overrides: Partial<ArtworkRequest>) => req({ type: 'billboard', ...overrides });
  t.equal(render(billboard({ width: 1920, height: 1080, dpr: 2 })).spec.width, 3840);
  t.same(resolveArtwork(state, billboard({ width: 1920, height: 1080, dpr: 3 })), {
    kind: 'redirect',
    width: 1280,
    height: 720,
    dpr: 3,
  });
  t.same(resolveArtwork(state, billboard({ width: 1500, height: 900, dpr: 3 })), {
    kind: 'redirect',
    width: 1280,
    height: 720,
    dpr: 3,
  });

  const tiny = stateWith({ tiny: { ...posterType, sizes: ['342x513'], maxWidth: 684, maxHeight: 1026 } });
  t.equal(render(req({ type: 'tiny', dpr: 2 }), tiny).spec.width, 684);
  const err = failure(req({ type: 'tiny', dpr: 3 }), tiny);
  t.equal(err.code, 'SIZE_NOT_ALLOWED', 'no allowed size fits at 3x');
  t.match(err.extra, { maxWidth: 684, maxHeight: 1026 });
});

t.test('size policy strict', async (t) => {
  const s = stateWith({ poster: { ...posterType, sizePolicy: 'strict' } });
  t.equal(render(req({ type: 'poster', width: 342, height: 513 }), s).logicalSize, '342x513');
  t.equal(
    render(req({ type: 'poster', width: 171, height: undefined }), s).logicalSize,
    '171x256',
    'W only of an allowed size renders',
  );
  for (const [w, h] of [
    [300, 450],
    [342, 514],
    [800, 1200],
  ] as const) {
    const err = failure(req({ type: 'poster', width: w, height: h }), s);
    t.equal(err.code, 'SIZE_NOT_ALLOWED', `${w}x${h}`);
    t.equal(err.status, 400);
    t.same(err.extra, { allowedSizes: ['171x256', '342x513', '684x1026'] });
    t.match(err.message, /171x256, 342x513, 684x1026/, 'the message lists the allowed sizes');
  }
  t.equal(
    failure(
      req({ type: 'poster', width: 684, height: 1026, dpr: 3 }),
      stateWith({ poster: { ...posterType, sizePolicy: 'strict', maxWidth: 1368, maxHeight: 2052 } }),
    ).code,
    'SIZE_NOT_ALLOWED',
    'allowed size over the max at 3x',
  );
});

t.test('size policy any: snapped onto the ladder (logo: 3:1, max 1200x400, contain)', async (t) => {
  // The default logo ladder at 1x: 75x25, 95x32, 119x40, 150x50, 189x63, 238x79, 300x100,
  // 378x126, 476x159, 600x200, 756x252, 953x318, 1200x400; at 2x up to 600x200; at 3x up to
  // 378x126, then 400x133 (the widest that fits 1200x400 at 3x).
  const logo = (overrides: Partial<ArtworkRequest>) => req({ type: 'logo', ext: 'png', ...overrides });
  const cases: Array<[string, Partial<ArtworkRequest>, Resolution['kind'], string]> = [
    ['a ladder size renders', { width: 378, height: 126 }, 'render', '378x126'],
    ['the max itself', { width: 1200, height: 400 }, 'render', '1200x400'],
    ['a listed size is on the ladder', { width: 300, height: 100 }, 'render', '300x100'],
    ['DPR within max', { width: 600, height: 200, dpr: 2 }, 'render', '600x200'],
    ['the widest size at 3x', { width: 400, height: 133, dpr: 3 }, 'render', '400x133'],
    ['between ladder sizes: the next one up', { width: 302, height: 101 }, 'redirect', '378x126'],
    ["the issue's 301x101", { width: 301, height: 101 }, 'redirect', '378x126'],
    ['just past a ladder size', { width: 379, height: 127 }, 'redirect', '476x159'],
    ['below minWidth', { width: 1, height: 1 }, 'redirect', '75x25'],
    ['W only on the ladder: spelled WxH', { width: 300, height: undefined }, 'redirect', '300x100'],
    ['W only between sizes', { width: 450, height: undefined }, 'redirect', '476x159'],
    ['W only, the max', { width: 1200, height: undefined }, 'redirect', '1200x400'],
    // contain draws the logo inside the box: the box is snapped by the picture it holds.
    ['taller box: the picture is as wide as the box', { width: 300, height: 300 }, 'redirect', '300x100'],
    ['wider box: the picture is as tall as the box', { width: 1200, height: 50 }, 'redirect', '150x50'],
    ['500x300 holds 500x167', { width: 500, height: 300 }, 'redirect', '600x200'],
    ['a pixel wider than a ladder size holds the same picture', { width: 301, height: 100 }, 'redirect', '300x100'],
    ['2x: the next size up that fits', { width: 550, height: 183, dpr: 2 }, 'redirect', '600x200'],
    ['3x: up to the widest that fits', { width: 390, height: 130, dpr: 3 }, 'redirect', '400x133'],
  ];
  for (const [name, overrides, kind, size] of cases) {
    const out = resolveArtwork(state, logo(overrides));
    t.equal(out.kind, kind, name);
    const got = out.kind === 'render' ? out.logicalSize : `${out.width}x${out.height}`;
    t.equal(got, size, `${name}: size`);
    if (out.kind === 'redirect') {
      t.equal(out.dpr, overrides.dpr ?? 1, `${name}: keeps the DPR`);
      t.equal(
        render(logo({ width: out.width, height: out.height, dpr: out.dpr })).logicalSize,
        size,
        `${name}: the target renders`,
      );
    }
  }
  const atTwo = render(logo({ width: 600, height: 200, dpr: 2 }));
  t.same([atTwo.spec.width, atTwo.spec.height], [1200, 400], '600x200@2x is 1200x400 pixels');

  for (const [name, overrides] of [
    ['wider than max', { width: 1300, height: 400 }],
    ['taller than max', { width: 300, height: 500 }],
    ['max exceeded by DPR', { width: 600, height: 200, dpr: 3 }],
    ['W only, max exceeded by DPR', { width: 401, height: undefined, dpr: 3 }],
  ] as const) {
    const err = failure(logo(overrides));
    t.equal(err.code, 'SIZE_NOT_ALLOWED', name);
    t.same(err.extra, { maxWidth: 1200, maxHeight: 400 }, `${name}: names the max`);
    t.match(err.message, /1200x400/);
  }
});

t.test('size policy any on a cover type: the ladder size covering the box', async (t) => {
  // 2:3 from 100 wide by 1.5: 100x150, 150x225, 225x338, 338x507, 506x759, then 684x1026 (the
  // widest within 684x1026 at 1x), and the listed sizes 171x256, 342x513.
  const s = stateWith({
    poster: {
      ...posterType,
      sizes: ['171x256', '342x513'],
      sizePolicy: 'any',
      ladder: { minWidth: 100, ratio: 1.5 },
      maxWidth: 684,
      maxHeight: 1026,
    },
  });
  const poster = (overrides: Partial<ArtworkRequest>) => resolveArtwork(s, req({ type: 'poster', ...overrides }));
  const cases: Array<[string, Partial<ArtworkRequest>, Resolution['kind'], string]> = [
    ['on the ladder', { width: 225, height: 338 }, 'render', '225x338'],
    ['a listed size', { width: 171, height: 256 }, 'render', '171x256'],
    ['wider than the aspect: covered in both dimensions', { width: 300, height: 100 }, 'redirect', '338x507'],
    ['taller than the aspect', { width: 100, height: 400 }, 'redirect', '338x507'],
    ['just past a ladder size', { width: 339, height: 508 }, 'redirect', '342x513'],
    ['the widest', { width: 600, height: 1000 }, 'redirect', '684x1026'],
  ];
  for (const [name, overrides, kind, size] of cases) {
    const out = poster(overrides);
    t.equal(out.kind, kind, name);
    t.equal(out.kind === 'render' ? out.logicalSize : `${out.width}x${out.height}`, size, `${name}: size`);
  }
});

t.test('DPR multiplies the pixel size and must be allowed', async (t) => {
  for (const [dpr, w, h] of [
    [1, 342, 513],
    [2, 684, 1026],
    [3, 1026, 1539],
  ] as const) {
    const out = render(req({ dpr }));
    t.same([out.spec.width, out.spec.height, out.dpr, out.logicalSize], [w, h, dpr, '342x513'], `@${dpr}x`);
  }
  for (const dpr of [0, 4, 1.5, -1, Number.NaN]) {
    const err = failure(req({ dpr }));
    t.equal(err.code, 'INVALID_PARAMETER', `dpr ${dpr}`);
  }
});

t.test('explicit formats', async (t) => {
  const cases: Array<[string, Partial<ArtworkRequest>, string]> = [
    ['jpg is jpeg', { ext: 'jpg' }, 'jpeg'],
    ['webp', { ext: 'webp' }, 'webp'],
    ['avif', { ext: 'avif' }, 'avif'],
    ['logo png', { type: 'logo', ext: 'png', width: 300, height: 100 }, 'png'],
  ];
  for (const [name, overrides, format] of cases) {
    const out = render(req(overrides));
    t.equal(out.format, format, name);
    t.equal(out.spec.format, format, `${name}: spec`);
    t.equal(out.vary, false, `${name}: no Vary`);
  }
  const png = failure(req({ ext: 'png' }));
  t.equal(png.code, 'FORMAT_NOT_ALLOWED');
  t.equal(png.status, 400);
  t.same(png.extra, { allowedFormats: ['avif', 'webp', 'jpg'] });
  t.match(png.message, /avif, webp, jpg/);
  t.same(
    failure(req({ type: 'logo', ext: 'jpg', width: 300, height: 100 })).extra,
    { allowedFormats: ['avif', 'webp', 'png'] },
    'logos have no JPEG',
  );
  // A format error must not first bounce the client through a size redirect.
  t.equal(failure(req({ ext: 'png', width: 300, height: 450 })).code, 'FORMAT_NOT_ALLOWED');
});

t.test('auto: negotiated from Accept, best of the type first', async (t) => {
  const chrome = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
  const safari16 =
    'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5';
  const oldSafari = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';
  const cases: Array<[string, string | undefined, string, string]> = [
    ['no Accept', undefined, 'boxshot', 'jpeg'],
    ['empty Accept', '', 'boxshot', 'jpeg'],
    ['Chrome', chrome, 'boxshot', 'avif'],
    ['Safari 16: the rules order wins over the header order', safari16, 'boxshot', 'avif'],
    ['old Safari: image/* does not imply avif or webp', oldSafari, 'boxshot', 'jpeg'],
    ['*/* does not imply avif or webp', '*/*', 'boxshot', 'jpeg'],
    ['webp only', 'image/webp,*/*;q=0.8', 'boxshot', 'webp'],
    ['avif refused with q=0', 'image/avif;q=0,image/webp,*/*', 'boxshot', 'webp'],
    ['avif q=0.0 and webp q=0', 'image/avif;q=0.0, image/webp;q=0, */*', 'boxshot', 'jpeg'],
    ['low but positive q still accepts', 'image/avif;q=0.1,*/*', 'boxshot', 'avif'],
    ['media types are case-insensitive', 'IMAGE/AVIF', 'boxshot', 'avif'],
    ['whitespace and other params', ' image/webp ; level=1 ; q=0.9 ', 'boxshot', 'webp'],
    ['garbage', ';;, ,=q', 'boxshot', 'jpeg'],
    ['html only', 'text/html,application/xhtml+xml', 'boxshot', 'jpeg'],
    ['logo falls back to png', '*/*', 'logo', 'png'],
    ['logo avif', chrome, 'logo', 'avif'],
  ];
  for (const [name, accept, type, format] of cases) {
    const out = render(
      req({ type, ext: 'auto', accept, width: type === 'logo' ? 300 : 342, height: type === 'logo' ? 100 : 513 }),
    );
    t.equal(out.format, format, name);
    t.equal(out.vary, true, `${name}: Vary: Accept`);
  }
  // A type without a universally decodable format serves its least demanding one.
  const s = stateWith({ modern: { ...posterType, formats: ['avif', 'webp'] } });
  t.equal(render(req({ type: 'modern', ext: 'auto', accept: '*/*' }), s).format, 'webp');
});

t.test('quality and effort by format and size class', async (t) => {
  // small ≤ 480 < medium ≤ 1280 < large (output pixels).
  const cases: Array<[string, Partial<ArtworkRequest>, number, number | undefined]> = [
    ['avif small (171 px)', { ext: 'avif', width: 171, height: 256 }, 60, 2],
    ['avif medium (684 px)', { ext: 'avif', dpr: 2 }, 50, 2],
    ['avif large (1368 px)', { ext: 'avif', width: 684, height: 1026, dpr: 2 }, 45, 2],
    ['avif at the class edge (480 px is small)', { type: 'billboard', ext: 'avif', width: 480, height: 270 }, 45, 2],
    ['jpeg small', { width: 171, height: 256 }, 85, undefined],
    ['jpeg medium', { dpr: 2 }, 80, undefined],
    ['jpeg large', { width: 684, height: 1026, dpr: 3 }, 75, undefined],
    ['webp small', { ext: 'webp', width: 171, height: 256 }, 80, 4],
    ['webp large: no class override', { ext: 'webp', width: 684, height: 1026, dpr: 2 }, 75, 4],
    // billboard sets avif quality 45 for itself: the type beats the global class override.
    ['billboard avif medium: the type override', { type: 'billboard', ext: 'avif', width: 960, height: 540 }, 45, 2],
    ['billboard jpeg: the global setting', { type: 'billboard', width: 960, height: 540 }, 80, undefined],
    ['logo png', { type: 'logo', ext: 'png', width: 300, height: 100 }, 100, 4],
  ];
  for (const [name, overrides, quality, effort] of cases) {
    const out = render(req(overrides));
    t.equal(out.spec.quality, quality, `${name}: quality`);
    t.equal(out.spec.effort, effort, `${name}: effort`);
  }
  const s = stateWith({
    poster: { ...posterType, encoding: { avif: { quality: 70, sizeClasses: { small: { quality: 90, effort: 1 } } } } },
  });
  t.match(
    render(req({ type: 'poster', ext: 'avif', width: 171, height: 256 }), s).spec,
    { quality: 90, effort: 1 },
    'the type class override wins',
  );
  t.match(
    render(req({ type: 'poster', ext: 'avif', dpr: 2 }), s).spec,
    { quality: 70, effort: 2 },
    'type quality, global effort',
  );
});

t.test('crop policy and fit', async (t) => {
  t.same(render(req()).spec.focal, { x: 0.5, y: 0.32 }, 'focal: the catalog focal point');
  t.equal(
    render(req({ titleId: '80000002' })).spec.focal,
    undefined,
    'focal without one in the catalog: none (attention)',
  );
  t.equal(render(req({ locale: 'pt-BR' })).spec.focal, undefined, 'the focal point is per locale');

  const s = stateWith({
    still: { ...posterType, crop: 'attention' },
    square: { ...posterType, crop: 'centre' },
    framed: { ...posterType, crop: 'focal' },
  });
  t.same(render(req({ type: 'framed' }), s).spec.focal, { x: 0.1, y: 0.9 }, 'focal, explicitly');
  t.equal(render(req({ type: 'still' }), s).spec.focal, undefined, 'attention ignores the catalog focal');
  t.same(render(req({ type: 'square' }), s).spec.focal, { x: 0.5, y: 0.5 }, 'centre ignores it too');

  const logo = render(req({ type: 'logo', ext: 'png', width: 300, height: 100 }));
  t.equal(logo.spec.fit, 'contain');
  t.equal(logo.spec.background, '#00000000', 'transparent padding');
  t.equal(logo.spec.focal, undefined, 'no crop, no focal');
  t.equal(render(req()).spec.fit, 'cover');
  t.equal(render(req()).spec.background, undefined);
});

t.test('enlarge: refused unless the type allows it; only a refusal enters the spec', async (t) => {
  // Each of these is larger than its source (boxshot 1000x1500, billboard 1920x1080, logo 1200x400 at most).
  const cases: Array<[string, Partial<ArtworkRequest>, [number, number]]> = [
    ['boxshot', { type: 'boxshot', width: 684, height: 1026, dpr: 2 }, [1368, 2052]],
    ['billboard', { type: 'billboard', width: 1920, height: 1080, dpr: 2 }, [3840, 2160]],
    ['logo', { type: 'logo', ext: 'png', width: 1200, height: 400 }, [1200, 400]],
  ];
  for (const [name, overrides, pixels] of cases) {
    const out = render(req(overrides));
    t.equal(out.spec.enlarge, false, `${name}: the default rules refuse it`);
    // The Generator renders the source's resolution; the spec (and X-Artwork-Size) name the size asked.
    t.same([out.spec.width, out.spec.height], pixels, `${name}: the size asked`);
  }

  const s = stateWith({
    grows: { ...posterType, enlarge: true },
    kept: { ...posterType, enlarge: false },
    unsaid: posterType,
  });
  const spec = (type: string) => render(req({ type }), s).spec;
  t.notOk('enlarge' in spec('grows'), 'allowed: no field, so the keys of such types stay as they were');
  t.equal(spec('kept').enlarge, false);
  t.equal(spec('unsaid').enlarge, false, 'not said in the rules: may not');
  const { enlarge: _, ...rest } = spec('kept');
  t.same(rest, spec('grows'), 'otherwise the same spec');
});

t.test('overlays by title flag and minimum output width', async (t) => {
  const badge = (key: string, gravity: string, scale: number) => ({
    source: { s3: { bucket: SOURCES_BUCKET, key } },
    gravity,
    scale,
  });
  const top10 = badge('badges/top10.png', 'northeast', 0.22);
  const fresh = badge('badges/new.png', 'southwest', 0.3);
  const cases: Array<[string, Partial<ArtworkRequest>, unknown[] | undefined]> = [
    ['top10 title, 171 px ≥ 160', { width: 171, height: 256 }, [top10]],
    ['top10 title, 342 px', {}, [top10]],
    ['no flags: no overlays field at all', { titleId: '80000002' }, undefined],
    ['empty flags', { titleId: '80000004', locale: 'fr' }, undefined],
    ['new + top10, 171 px < 320: only top10', { titleId: '80000003', width: 171, height: 256 }, [top10]],
    ['new + top10, 342 px: both, in rules order', { titleId: '80000003' }, [top10, fresh]],
    [
      'minWidth counts output pixels (171@2x = 342)',
      { titleId: '80000003', width: 171, height: 256, dpr: 2 },
      [top10, fresh],
    ],
    ['billboard top10 below its minWidth 640', { type: 'billboard', width: 480, height: 270 }, undefined],
    [
      'billboard top10 at 960',
      { type: 'billboard', width: 960, height: 540 },
      [badge('badges/top10.png', 'northeast', 0.08)],
    ],
  ];
  for (const [name, overrides, overlays] of cases) t.same(render(req(overrides)).spec.overlays, overlays, name);
});

t.test('Cache-Control with and without a matching v', async (t) => {
  const normal = 'public, max-age=3600, s-maxage=86400, stale-while-revalidate=86400';
  const immutable = 'public, max-age=31536000, immutable';
  const cases: Array<[string, Partial<ArtworkRequest>, string]> = [
    ['no v', {}, normal],
    ['v matches the artwork version', { v: '1' }, immutable],
    // Regression guard: a stale or wrong v must never be pinned for a year.
    ['v differs', { v: '2' }, normal],
    ['empty v', { v: '' }, normal],
    ['v of the resolved locale (fr is version 2)', { locale: 'fr', v: '2' }, immutable],
    ['v of another locale', { locale: 'fr', v: '1' }, normal],
  ];
  for (const [name, overrides, cc] of cases) t.equal(render(req(overrides)).cacheControl, cc, name);

  const s = stateWith({ poster: { ...posterType, cache: { maxAge: 60, immutableMaxAge: 600 } } });
  t.equal(
    render(req({ type: 'poster' }), s).cacheControl,
    'public, max-age=60',
    'a type cache policy replaces the global one',
  );
  t.equal(render(req({ type: 'poster', v: '1' }), s).cacheControl, 'public, max-age=600, immutable');
});

t.test('the render result and its key', async (t) => {
  const out = render(req({ dpr: 2, v: '1' }));
  t.same(out, {
    kind: 'render',
    source: { s3: { bucket: SOURCES_BUCKET, key: 'titles/80000001/boxshot/en.jpg' } },
    version: '1',
    spec: {
      width: 684,
      height: 1026,
      fit: 'cover',
      format: 'jpeg',
      quality: 80,
      focal: { x: 0.5, y: 0.32 },
      enlarge: false,
      overlays: [
        { source: { s3: { bucket: SOURCES_BUCKET, key: 'badges/top10.png' } }, gravity: 'northeast', scale: 0.22 },
      ],
    },
    key: out.key,
    locale: 'en',
    width: 342,
    height: 513,
    logicalSize: '342x513',
    dpr: 2,
    format: 'jpeg',
    vary: false,
    cacheControl: 'public, max-age=31536000, immutable',
    title: 'The Long Night',
  });
  t.equal(out.key, specKey(out.source, out.spec, out.version), 'key = specKey(source, spec, version)');
  t.match(out.key, /^[0-9a-f]{32}$/);

  const key = (overrides: Partial<ArtworkRequest>) => render(req(overrides)).key;
  t.equal(key({}), key({}), 'same request, same key');
  t.equal(key({ locale: 'EN' }), key({}), 'same resolved artwork, same key');
  t.equal(key({ v: '1' }), key({}), 'the request v does not enter the key (the artwork version does)');
  t.equal(
    key({ ext: 'auto', accept: 'image/avif' }),
    key({ ext: 'avif' }),
    'negotiated and explicit avif share the output',
  );
  t.equal(key({ locale: 'de' }), key({}), 'a fallback to en is the en output');
  t.equal(
    key({ dpr: 2 }),
    key({ width: 684, height: 1026 }),
    'the same pixels from another logical size and DPR are the same output',
  );
  const distinct = [
    key({}),
    key({ locale: 'pt-BR' }),
    key({ locale: 'fr' }),
    key({ width: 684, height: 1026 }),
    key({ dpr: 3 }),
    key({ ext: 'webp' }),
    key({ titleId: '80000002' }),
  ];
  t.equal(new Set(distinct).size, distinct.length, 'locale, size, DPR, format and title each change the key');

  const bumped = catalogDoc();
  at(bumped, 'titles', '80000001', 'artwork', 'boxshot', 'en').version = '2';
  const next = { ...state, catalog: parseCatalog(JSON.stringify(bumped), 'catalog.json') };
  t.not(render(req(), next).key, key({}), 'a new artwork version is a new key');
  t.not(
    render(req(), { ...state, sourcesBucket: 'other-bucket' }).key,
    key({}),
    'the sources bucket is part of the key',
  );
});

t.test('listTypes for the studio page', async (t) => {
  const types = listTypes(state.rules);
  t.same(
    types.map((x) => x.type),
    ['boxshot', 'billboard', 'logo'],
  );
  t.match(types[0], {
    type: 'boxshot',
    aspect: '2:3',
    sizes: ['171x256', '342x513', '684x1026'],
    sizePolicy: 'snap',
    formats: ['avif', 'webp', 'jpeg'],
    maxWidth: 2052,
    maxHeight: 3078,
    fit: 'cover',
    dpr: [1, 2, 3],
    enlarge: false,
    renders: 8,
  });
  t.match(types[2], {
    type: 'logo',
    sizePolicy: 'any',
    formats: ['avif', 'webp', 'png'],
    fit: 'contain',
    enlarge: false,
    renders: 26,
  });
});
