import { extensionOf, type FocalPoint } from '@marquee/shared';

/** Invented titles: no real show is named here. */
export const TITLE_NAMES = [
  'The Long Night',
  'Harbour Lights',
  'Cinder & Salt',
  'The Quiet Orbit',
  'Northbound',
  'A House of Paper Birds',
  'Low Tide Society',
  'The Cartographer',
  'Velvet Static',
  'Ember Valley',
  'Glass Meridian',
  'The Last Lighthouse',
  'Foxglove Road',
  'Midnight Ledger',
  'Saltwater Kings',
  'The Ninth Winter',
  'Copper Skies',
  'Little Hours',
  'The Orchard Heist',
  'Paper Moons',
  'Signal & Noise',
  'The Drowned Choir',
  'Atlas of Small Things',
  'Wolves of Marrow Bay',
  'The Tin Astronomer',
  'Beneath the Boulevard',
  'Sunday Assassins',
  'The Lantern Keepers',
  'Frostline',
  'Echo Parade',
] as const;

/**
 * The titles `npm start` shows first (by index): 80000001-80000003 and 80000007, the one with both
 * badges and three locales. A background seed renders them before the others.
 */
export const SHOWCASE: readonly number[] = [0, 1, 2, 6];

/** First title id: 8 digits, as catalog ids are. */
export const FIRST_TITLE_ID = 80_000_001;

export const ARTWORK_TYPES = ['boxshot', 'billboard', 'logo'] as const;
export type ArtworkType = (typeof ARTWORK_TYPES)[number];

/** Source size and encoding per type: boxshot 2:3, billboard 16:9, logo a wide transparent wordmark. */
export const ARTWORK_SOURCES: Record<ArtworkType, { width: number; height: number; format: 'jpeg' | 'png' }> = {
  boxshot: { width: 1000, height: 1500, format: 'jpeg' },
  billboard: { width: 1920, height: 1080, format: 'jpeg' },
  logo: { width: 1200, height: 400, format: 'png' },
};

export interface TitlePlan {
  id: string;
  index: number;
  name: string;
  flags: string[];
  /** Always `en` first. */
  locales: string[];
  /** Whether boxshot/billboard (photo types) carry a focal point; logos, whether they carry the centre. */
  photoFocal: boolean;
  logoFocal: boolean;
}

/**
 * Which titles get which locales, flags and focal points: fixed patterns, so
 * tests and the studio can count on them. Every title has `en`; 2/3 have `fr`;
 * half have `pt-BR`; every sixth (from the fourth) has only `pt`, to exercise
 * the `pt-BR → pt → en` fallback.
 */
export function planTitle(index: number): TitlePlan {
  const name = TITLE_NAMES[index];
  if (name === undefined)
    throw new RangeError(`seed: at most ${TITLE_NAMES.length} titles, asked for title #${index + 1}`);
  const locales = ['en'];
  if (index % 3 !== 2) locales.push('fr');
  if (index % 2 === 0) locales.push('pt-BR');
  else if (index % 6 === 3) locales.push('pt');
  const flags: string[] = [];
  if (index % 3 === 0) flags.push('top10');
  if (index % 5 === 1) flags.push('new');
  return {
    id: String(FIRST_TITLE_ID + index),
    index,
    name,
    flags,
    locales,
    photoFocal: index % 5 !== 4,
    logoFocal: index % 2 === 0,
  };
}

export function sourceKey(titleId: string, type: ArtworkType, locale: string): string {
  return `titles/${titleId}/${type}/${locale}.${extensionOf(ARTWORK_SOURCES[type].format)}`;
}

export const LOGO_FOCAL: FocalPoint = { x: 0.5, y: 0.5 };
