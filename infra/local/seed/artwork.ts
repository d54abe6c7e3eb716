import sharp from 'sharp';
import type { FocalPoint } from '@marquee/shared';
import { hashSeed, random, type Random } from './random.js';
import { localisedName } from './names.js';
import { FONT_FAMILY, escapeXml, fitFontSize, hsl, localeTag, wrap } from './svg.js';
import { ARTWORK_SOURCES, type TitlePlan } from './titles.js';

type PhotoType = 'boxshot' | 'billboard';

/** A rendered photo (all but the title and the locale tag): shared by every locale of one title and type. */
export interface PhotoBase {
  raw: Buffer;
  width: number;
  height: number;
  focal: FocalPoint;
  hue: number;
}

/**
 * The background is rasterised at half size and scaled up: librsvg's cost is
 * per output pixel, and the softness reads as a photo rather than a vector.
 */
const BACKGROUND_SCALE = 0.5;
/** Grain strength in 8-bit levels: visible texture, without bloating the JPEGs. */
const GRAIN_AMPLITUDE = 28;
/** Grain values cycled over the pixels: a prime length, so no row lines up with the last. */
const GRAIN_TABLE = 65_521;
const JPEG_QUALITY = 85;

/**
 * Where the title and the locale tag go: clear of the badges the shipped rules draw
 * (`preprocessor/config/rules.yaml`: `top10` in the top-right corner, 22% of a boxshot's width
 * and 8% of a billboard's; `new` in the bottom-left corner, 30% of a boxshot's width, its pill in
 * the bottom 14% of the height). The title sits above the `new` pill; the locale tag top-left.
 * `baseline`: the last line's, as a fraction of the height; `scrim`: where the dark gradient
 * behind the title starts.
 */
const LAYOUT: Record<
  PhotoType,
  {
    baseline: number;
    scrim: number;
    x: number;
    anchor: 'middle' | 'start';
    width: number;
    maxFont: number;
    wrapAt: number;
  }
> = {
  boxshot: { baseline: 0.8, scrim: 0.45, x: 0.5, anchor: 'middle', width: 0.8, maxFont: 96, wrapAt: 14 },
  billboard: { baseline: 0.86, scrim: 0.4, x: 0.06, anchor: 'start', width: 0.5, maxFont: 104, wrapAt: 18 },
};

/** Subject placement per type: boxshots leave the bottom for the title; billboards put it right of the text. */
const SUBJECT_AREA: Record<PhotoType, { x: [number, number]; y: [number, number] }> = {
  boxshot: { x: [0.3, 0.7], y: [0.22, 0.5] },
  billboard: { x: [0.55, 0.8], y: [0.3, 0.6] },
};

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Golden-angle steps between neighbouring titles, jittered: no two adjacent titles share a palette. */
function titleHue(plan: TitlePlan, rng: Random): number {
  return (plan.index * 137.508 + rng.between(0, 50)) % 360;
}

/** A closed, smooth, irregular blob around (cx, cy): quadratic curves through the midpoints of a jittered polygon. */
function blobPath(rng: Random, cx: number, cy: number, radius: number): string {
  const n = 9;
  const points = Array.from({ length: n }, (_, i) => {
    const angle = (i / n) * Math.PI * 2;
    const r = radius * rng.between(0.75, 1.2);
    return [cx + Math.cos(angle) * r, cy + Math.sin(angle) * r * 1.15] as const;
  });
  const at = (i: number): readonly [number, number] => points[i % n] as readonly [number, number];
  const mid = (i: number): string =>
    `${((at(i)[0] + at(i + 1)[0]) / 2).toFixed(1)},${((at(i)[1] + at(i + 1)[1]) / 2).toFixed(1)}`;
  let d = `M${mid(0)}`;
  for (let i = 1; i <= n; i++) d += ` Q${at(i)[0].toFixed(1)},${at(i)[1].toFixed(1)} ${mid(i)}`;
  return `${d} Z`;
}

function hills(rng: Random, width: number, height: number, hue: number): string {
  let out = '';
  for (let layer = 0; layer < 3; layer++) {
    const base = height * (0.62 + layer * 0.12);
    let d = `M0,${base.toFixed(0)}`;
    const steps = 5;
    for (let i = 1; i <= steps; i++) {
      const x = (width * i) / steps;
      const y = base + rng.between(-0.08, 0.08) * height;
      d += ` Q${(x - width / steps / 2).toFixed(0)},${(y - rng.between(0, 0.1) * height).toFixed(0)} ${x.toFixed(0)},${y.toFixed(0)}`;
    }
    d += ` L${width},${height} L0,${height} Z`;
    out += `<path d="${d}" fill="${hsl(hue + 180 + layer * 12, 35, 22 - layer * 6)}" fill-opacity="${0.75 + layer * 0.1}"/>`;
  }
  return out;
}

/** Where the subject goes: the first draws after the hue, so the catalog can name it without rendering. */
function drawFocal(rng: Random, type: PhotoType): FocalPoint {
  const area = SUBJECT_AREA[type];
  return { x: round2(rng.between(...area.x)), y: round2(rng.between(...area.y)) };
}

/** The subject's position in a photo of `plan` (the focal point the catalog gives when it gives one). */
export function photoFocal(plan: TitlePlan, type: PhotoType): FocalPoint {
  const rng = random(hashSeed(`${plan.id}/${type}`));
  titleHue(plan, rng);
  return drawFocal(rng, type);
}

function backgroundSvg(rng: Random, type: PhotoType, focal: FocalPoint, hue: number): { svg: string; radius: number } {
  const { width, height } = ARTWORK_SOURCES[type];
  const sx = focal.x * width;
  const sy = focal.y * height;
  const radius = Math.min(width, height) * rng.between(0.14, 0.2);
  const sun = {
    x: rng.between(0.1, 0.9) * width,
    y: rng.between(0.05, 0.35) * height,
    r: rng.between(0.25, 0.45) * width,
  };
  let bokeh = '';
  for (let i = 0; i < 14; i++) {
    bokeh +=
      `<circle cx="${rng.between(0, width).toFixed(0)}" cy="${rng.between(0, height * 0.7).toFixed(0)}" ` +
      `r="${rng.between(0.01, 0.06) * width}" fill="${hsl(hue + rng.between(-40, 40), 80, rng.between(55, 85))}" ` +
      `fill-opacity="${rng.between(0.08, 0.3).toFixed(2)}"/>`;
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width * BACKGROUND_SCALE}" height="${height * BACKGROUND_SCALE}" viewBox="0 0 ${width} ${height}">` +
    '<defs>' +
    `<linearGradient id="sky" x1="0" y1="0" x2="0.3" y2="1"><stop offset="0" stop-color="${hsl(hue, 60, 18)}"/>` +
    `<stop offset="0.55" stop-color="${hsl(hue + 30, 70, 42)}"/><stop offset="1" stop-color="${hsl(hue + 60, 55, 68)}"/></linearGradient>` +
    `<radialGradient id="sun"><stop offset="0" stop-color="${hsl(hue + 50, 95, 85)}" stop-opacity="0.9"/>` +
    `<stop offset="1" stop-color="${hsl(hue + 50, 95, 60)}" stop-opacity="0"/></radialGradient>` +
    `<radialGradient id="subject" cx="0.38" cy="0.32" r="0.75"><stop offset="0" stop-color="${hsl(hue + 160, 90, 72)}"/>` +
    `<stop offset="0.6" stop-color="${hsl(hue + 150, 80, 45)}"/><stop offset="1" stop-color="${hsl(hue + 140, 70, 18)}"/></radialGradient>` +
    '<radialGradient id="vignette" r="0.75"><stop offset="0.55" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.6"/></radialGradient>' +
    '<linearGradient id="scrim" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.7"/></linearGradient>' +
    '</defs>' +
    `<rect width="${width}" height="${height}" fill="url(#sky)"/>` +
    `<circle cx="${sun.x.toFixed(0)}" cy="${sun.y.toFixed(0)}" r="${sun.r.toFixed(0)}" fill="url(#sun)"/>` +
    bokeh +
    hills(rng, width, height, hue) +
    `<ellipse cx="${sx.toFixed(0)}" cy="${(sy + radius * 1.25).toFixed(0)}" rx="${(radius * 1.1).toFixed(0)}" ry="${(radius * 0.22).toFixed(0)}" fill="#000" fill-opacity="0.45"/>` +
    `<path d="${blobPath(rng, sx, sy, radius)}" fill="url(#subject)" stroke="${hsl(hue + 160, 90, 85)}" stroke-width="4" stroke-opacity="0.7"/>` +
    `<rect width="${width}" height="${height}" fill="url(#vignette)"/>` +
    `<rect y="${(height * LAYOUT[type].scrim).toFixed(0)}" width="${width}" height="${(height * (1 - LAYOUT[type].scrim)).toFixed(0)}" fill="url(#scrim)"/>` +
    '</svg>';
  return { svg, radius };
}

/**
 * Deterministic film grain, added to the half-size raster (the upscale softens
 * it into photo-like grain). sharp's own noise is unseeded, and a blended
 * noise layer costs more than the rest of the image.
 */
function addGrain(rgb: Buffer, rng: Random): void {
  const table = new Int8Array(GRAIN_TABLE);
  for (let i = 0; i < table.length; i++) table[i] = Math.round((rng.next() + rng.next() - 1) * GRAIN_AMPLITUDE);
  // A clamped view: out-of-range sums saturate at 0 and 255 without branches.
  const px = new Uint8ClampedArray(rgb.buffer, rgb.byteOffset, rgb.length);
  for (let i = 0, p = 0; i < px.length; i += 3, p++) {
    const n = table[p % GRAIN_TABLE] as number;
    px[i] = (px[i] as number) + n;
    px[i + 1] = (px[i + 1] as number) + n;
    px[i + 2] = (px[i + 2] as number) + n;
  }
}

const WHITE = 'fill="#ffffff" fill-opacity="0.75"';

/**
 * Rulers along the top and left edges: ticks every 10%, labelled at 25, 50 and 75%. A crop keeps
 * the part of the rulers it kept, so a rendered crop says which part of the source it shows.
 */
function rulers(width: number, height: number): Array<{ input: Buffer; top: number; left: number }> {
  const tick = Math.round(Math.min(width, height) * 0.018);
  const font = Math.round(Math.min(width, height) * 0.022);
  const label = (x: number, y: number, text: string, anchor: string) =>
    `<text x="${x.toFixed(0)}" y="${y.toFixed(0)}" text-anchor="${anchor}" font-family="${FONT_FAMILY}" font-size="${font}" ${WHITE}>${text}</text>`;
  let top = '';
  let left = '';
  for (let i = 1; i < 10; i++) {
    const major = i === 5;
    const x = (width * i) / 10;
    const y = (height * i) / 10;
    top += `<rect x="${(x - 1).toFixed(0)}" width="2" height="${major ? tick * 1.6 : tick}" ${WHITE}/>`;
    left += `<rect y="${(y - 1).toFixed(0)}" height="2" width="${major ? tick * 1.6 : tick}" ${WHITE}/>`;
  }
  for (const pct of [25, 50, 75]) {
    top += label((width * pct) / 100, tick * 1.6 + font, `${pct}%`, 'middle');
    left += label(tick * 2.2, (height * pct) / 100 + font * 0.36, `${pct}%`, 'start');
  }
  const stripH = Math.round(tick * 1.6 + font * 1.4);
  const stripW = Math.round(tick * 2.2 + font * 2.6);
  return [
    {
      input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${stripH}">${top}</svg>`),
      top: 0,
      left: 0,
    },
    {
      input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${stripW}" height="${height}">${left}</svg>`),
      top: 0,
      left: 0,
    },
  ];
}

/** A target on the catalog's focal point: a focal crop keeps it, and a render shows that it did. */
function focalMarker(
  focal: FocalPoint,
  radius: number,
  width: number,
  height: number,
): { input: Buffer; top: number; left: number } {
  const r = Math.round(radius * 0.55);
  const size = r * 2 + 8;
  const c = size / 2;
  const stroke = Math.max(3, Math.round(r / 28));
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    `<circle cx="${c}" cy="${c}" r="${r}" fill="none" stroke="#ffffff" stroke-opacity="0.8" stroke-width="${stroke}" stroke-dasharray="${stroke * 4} ${stroke * 3}"/>` +
    `<path d="M${c - r * 0.35},${c} H${c + r * 0.35} M${c},${c - r * 0.35} V${c + r * 0.35}" stroke="#ffffff" stroke-opacity="0.9" stroke-width="${stroke}"/>` +
    '</svg>';
  const left = Math.min(Math.max(Math.round(focal.x * width - c), 0), width - size);
  const top = Math.min(Math.max(Math.round(focal.y * height - c), 0), height - size);
  return { input: Buffer.from(svg), top, left };
}

/**
 * The photo-like image of one title and type, without its title and locale tag, as raw RGB:
 * gradients, light, shapes, a subject, grain, the rulers and (when the catalog gives the focal
 * point) a target on it.
 */
export async function renderPhotoBase(plan: TitlePlan, type: PhotoType): Promise<PhotoBase> {
  const rng = random(hashSeed(`${plan.id}/${type}`));
  const hue = titleHue(plan, rng);
  const focal = drawFocal(rng, type);
  const { svg, radius } = backgroundSvg(rng, type, focal, hue);
  const { width, height } = ARTWORK_SOURCES[type];
  const half = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  addGrain(half.data, rng);
  const overlays = [...rulers(width, height), ...(plan.photoFocal ? [focalMarker(focal, radius, width, height)] : [])];
  const raw = await sharp(half.data, { raw: { width: half.info.width, height: half.info.height, channels: 3 } })
    .resize(width, height)
    .composite(overlays)
    .removeAlpha()
    .raw()
    .toBuffer();
  return { raw, width, height, focal, hue };
}

/** The title, as released in the locale, in the block above the scrim: sized to fit, clear of the badges. */
function titleBlock(name: string, type: PhotoType, width: number, height: number): { svg: Buffer; top: number } {
  const layout = LAYOUT[type];
  const top = Math.round(height * layout.scrim);
  const blockHeight = height - top;
  const lines = wrap(name, layout.wrapAt).slice(0, 3);
  const size = fitFontSize(lines, width * layout.width, layout.maxFont, 0.64);
  const x = width * layout.x;
  const lastBaseline = height * layout.baseline - top;
  const firstBaseline = lastBaseline - (lines.length - 1) * size * 1.1;
  const text = (dx: number, fill: string, opacity: number): string =>
    lines
      .map((line, i) => {
        const y = firstBaseline + i * size * 1.1 + dx;
        return `<text x="${x + dx}" y="${y.toFixed(0)}" text-anchor="${layout.anchor}" font-family="${FONT_FAMILY}" font-weight="bold" font-size="${size}" fill="${fill}" fill-opacity="${opacity}">${escapeXml(line)}</text>`;
      })
      .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${blockHeight}">` +
    text(4, '#000000', 0.6) +
    text(0, '#ffffff', 1) +
    '</svg>';
  return { svg: Buffer.from(svg), top };
}

/**
 * One locale of a photo artwork: the shared image, the title as released in that locale, and a
 * locale tag in the top-left corner (no badge goes there), as JPEG.
 */
export async function renderPhoto(base: PhotoBase, plan: TitlePlan, type: PhotoType, locale: string): Promise<Buffer> {
  const { width, height } = base;
  const block = titleBlock(localisedName(plan.name, locale), type, width, height);
  const tag = localeTag(locale, Math.round(Math.min(width, height) * 0.05));
  const margin = Math.round(Math.min(width, height) * 0.07);
  return sharp(base.raw, { raw: { width, height, channels: 3 } })
    .composite([
      { input: block.svg, top: block.top, left: 0 },
      { input: tag.svg, top: margin, left: margin },
    ])
    .jpeg({ quality: JPEG_QUALITY })
    .toBuffer();
}

/** The title's wordmark as released in the locale, in big capitals with a gradient fill and an outline, on transparency, as PNG. */
export async function renderLogo(plan: TitlePlan, locale: string): Promise<Buffer> {
  const { width, height } = ARTWORK_SOURCES.logo;
  const rng = random(hashSeed(`${plan.id}/logo`));
  const hue = titleHue(plan, rng);
  const lines = wrap(localisedName(plan.name, locale).toUpperCase(), 16).slice(0, 3);
  const size = fitFontSize(lines, width * 0.9, [170, 130, 100][lines.length - 1] ?? 100, 0.74);
  const firstBaseline = height * 0.45 - ((lines.length - 1) * size * 1.05) / 2 + size * 0.36;
  const text = lines
    .map(
      (line, i) =>
        `<text x="${width / 2}" y="${(firstBaseline + i * size * 1.05).toFixed(0)}" text-anchor="middle" font-family="${FONT_FAMILY}" ` +
        `font-weight="bold" font-size="${size}" fill="url(#ink)" stroke="#141414" stroke-width="${Math.max(3, size / 22).toFixed(1)}" paint-order="stroke">${escapeXml(line)}</text>`,
    )
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<defs><linearGradient id="ink" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${hsl(hue, 90, 80)}"/>` +
    `<stop offset="0.5" stop-color="${hsl(hue + 15, 85, 58)}"/><stop offset="1" stop-color="${hsl(hue + 30, 80, 38)}"/></linearGradient></defs>` +
    `<path d="M${width * 0.2},${height * 0.9} Q${width / 2},${height * 0.8} ${width * 0.8},${height * 0.9}" stroke="${hsl(hue + 30, 80, 50)}" stroke-width="10" fill="none" stroke-linecap="round"/>` +
    text +
    '</svg>';
  const tag = localeTag(locale, 30);
  return sharp(Buffer.from(svg))
    .composite([{ input: tag.svg, top: height - tag.height - 8, left: width - tag.width - 8 }])
    .png({ compressionLevel: 6 })
    .toBuffer();
}
