// Shared by the k6 scripts and the Node runner: no imports, no Node or k6 APIs.
// The request universe: every artwork URL a CDN might miss on, with its Accept header.

export interface FormatChoice {
  /** URL extension. */
  ext: 'jpg' | 'png' | 'webp' | 'avif' | 'auto';
  /** Accept header sent (matters for `auto`). */
  accept: string;
  /** Relative popularity. */
  weight: number;
}

export interface TypeUniverse {
  name: string;
  /** Canonical (allowed) sizes only, so that snap redirects are not the bulk of the traffic. */
  sizes: ReadonlyArray<{ size: string; weight: number }>;
  formats: readonly FormatChoice[];
  weight: number;
}

export interface Universe {
  titles: readonly string[];
  types: readonly TypeUniverse[];
  locales: ReadonlyArray<{ locale: string; weight: number }>;
}

/** One request: a path (with query) and the Accept header that goes with it. */
export interface RequestKey {
  path: string;
  accept: string;
  type: string;
  titleId: string;
  /** Pixel size the reply must have (`@2x` already applied). */
  width: number;
  height: number;
  ext: FormatChoice['ext'];
}

const ACCEPT_CHROME = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';
const ACCEPT_SAFARI_OLD = 'image/webp,image/png,image/*;q=0.8,*/*;q=0.5';
const ACCEPT_ANY = '*/*';
const ACCEPT_IMAGE = 'image/*';

/**
 * A CDN-miss mix: mostly WebP and negotiated `auto` (with the Accept headers browsers send),
 * some JPEG, a little explicit AVIF (it costs many times a WebP encode, so a realistic share only).
 */
const PHOTO_FORMATS: readonly FormatChoice[] = [
  { ext: 'webp', accept: ACCEPT_IMAGE, weight: 35 },
  { ext: 'auto', accept: ACCEPT_SAFARI_OLD, weight: 20 },
  { ext: 'auto', accept: ACCEPT_ANY, weight: 8 },
  { ext: 'auto', accept: ACCEPT_CHROME, weight: 7 },
  { ext: 'jpg', accept: ACCEPT_IMAGE, weight: 25 },
  { ext: 'avif', accept: ACCEPT_IMAGE, weight: 5 },
];

const ALPHA_FORMATS: readonly FormatChoice[] = [
  { ext: 'webp', accept: ACCEPT_IMAGE, weight: 40 },
  { ext: 'png', accept: ACCEPT_IMAGE, weight: 30 },
  { ext: 'auto', accept: ACCEPT_SAFARI_OLD, weight: 20 },
  { ext: 'auto', accept: ACCEPT_ANY, weight: 10 },
];

function titleRange(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(first + i));
}

/** The sample catalog the embedded stack seeds (see infra/local/seed and preprocessor/config/rules.yaml). */
export const SEEDED_UNIVERSE: Universe = {
  titles: titleRange(80000001, 24),
  types: [
    {
      name: 'boxshot',
      weight: 5,
      sizes: [
        { size: '171x256', weight: 4 },
        { size: '342x513', weight: 5 },
        { size: '684x1026', weight: 1 },
      ],
      formats: PHOTO_FORMATS,
    },
    {
      name: 'billboard',
      weight: 3,
      sizes: [
        { size: '480x270', weight: 4 },
        { size: '960x540', weight: 3 },
        { size: '1280x720', weight: 2 },
        { size: '1920x1080', weight: 1 },
      ],
      formats: PHOTO_FORMATS,
    },
    {
      name: 'logo',
      weight: 2,
      sizes: [
        { size: '300x100', weight: 3 },
        { size: '600x200', weight: 2 },
      ],
      formats: ALPHA_FORMATS,
    },
  ],
  locales: [
    { locale: 'en', weight: 6 },
    { locale: 'fr', weight: 2 },
    { locale: 'pt-BR', weight: 2 },
  ],
};

/**
 * Every key of the universe, most popular first: ordered by the product of the dimension
 * weights, the title's own weight falling as 1/rank. A Zipf over this order is a Zipf over
 * titles × types × sizes × locales × formats whose head is the popular combinations.
 */
export function enumerateKeys(universe: Universe): RequestKey[] {
  const scored: Array<{ key: RequestKey; score: number }> = [];
  universe.titles.forEach((titleId, titleIndex) => {
    const titleWeight = 1 / (titleIndex + 1);
    for (const type of universe.types) {
      for (const { size, weight: sizeWeight } of type.sizes) {
        const [w, h] = size.split('x').map(Number) as [number, number];
        for (const { locale, weight: localeWeight } of universe.locales) {
          for (const format of type.formats) {
            const path = `/v1/artwork/${type.name}/${titleId}/${size}.${format.ext}?locale=${encodeURIComponent(locale)}`;
            scored.push({
              key: { path, accept: format.accept, type: type.name, titleId, width: w, height: h, ext: format.ext },
              score: titleWeight * type.weight * sizeWeight * localeWeight * format.weight,
            });
          }
        }
      }
    }
  });
  // Stable sort: ties keep enumeration order, so the order is the same everywhere.
  scored.sort((a, b) => b.score - a.score);
  return scored.map((s) => s.key);
}
