/** Sizes as the rules write them: `WxH` in pixels. Pure: tap tests it in Node. */
export interface Size {
  w: number;
  h: number;
}

/** The studio's own bound: the render route's MAX_OUTPUT_DIMENSION. */
export const MAX_DIMENSION = 8192;

/** `300x450` (or `300×450`, `300 x 450`) → a size, or an error message saying what was expected. */
export function parseSize(text: string): Size | string {
  const match = /^\s*(\d{1,5})\s*[x×X*]\s*(\d{1,5})\s*$/.exec(text);
  if (!match) return `expected WxH like 300x450, got "${text.trim().slice(0, 20)}"`;
  const w = Number(match[1]);
  const h = Number(match[2]);
  if (w < 1 || h < 1 || w > MAX_DIMENSION || h > MAX_DIMENSION) return `each side 1..${MAX_DIMENSION} pixels`;
  return { w, h };
}

export function sizeLabel(size: Size): string {
  return `${size.w}x${size.h}`;
}

export function sameSize(a: Size, b: Size): boolean {
  return a.w === b.w && a.h === b.h;
}
