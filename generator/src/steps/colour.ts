import type { Format } from '@marquee/shared';

export interface Rgba {
  r: number;
  g: number;
  b: number;
  alpha: number;
}

const WHITE: Rgba = { r: 255, g: 255, b: 255, alpha: 1 };
const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, alpha: 0 };

/** `#rgb`, `#rrggbb` or `#rrggbbaa` (already validated by the schema). */
export function parseHex(hex: string): Rgba {
  let h = hex.slice(1);
  if (h.length === 3) h = [...h].map((c) => c + c).join('');
  const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
  return { r: n(0), g: n(2), b: n(4), alpha: h.length === 8 ? Math.round((n(6) / 255) * 1000) / 1000 : 1 };
}

/** The letterbox fill: the spec's, else transparent where the format has alpha, else white. */
export function backgroundFor(spec: { background?: string | undefined; format: Format }): Rgba {
  if (spec.background !== undefined) return parseHex(spec.background);
  return spec.format === 'jpeg' ? WHITE : TRANSPARENT;
}

/** The colour alpha is flattened onto for JPEG (which has no alpha): opaque. */
export function flattenColour(bg: Rgba): Rgba {
  return bg.alpha === 0 ? WHITE : { ...bg, alpha: 1 };
}
