/** Helpers for the SVG that sharp (librsvg) rasterises into sample artwork. */

/** DejaVu ships with the image and with most Linux hosts: text renders the same everywhere. */
export const FONT_FAMILY = "'DejaVu Sans'";

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c] as string};`,
  );
}

/** `#rrggbb` from hue (any degrees), saturation and lightness (0..100). */
export function hsl(hue: number, saturation: number, lightness: number): string {
  const h = (((hue % 360) + 360) % 360) / 360;
  const s = saturation / 100;
  const l = lightness / 100;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t0: number): string => {
    const t = t0 < 0 ? t0 + 1 : t0 > 1 ? t0 - 1 : t0;
    const v = t < 1 / 6 ? p + (q - p) * 6 * t : t < 1 / 2 ? q : t < 2 / 3 ? p + (q - p) * (2 / 3 - t) * 6 : p;
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${channel(h + 1 / 3)}${channel(h)}${channel(h - 1 / 3)}`;
}

/** Greedy word wrap to lines of at most `max` characters (a longer word keeps its own line). */
export function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= max) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** Bold DejaVu Sans is about 0.62 em per character in mixed case, 0.72 in capitals. */
export function fitFontSize(lines: string[], width: number, maxSize: number, emPerChar: number): number {
  const longest = Math.max(...lines.map((l) => l.length), 1);
  return Math.floor(Math.min(maxSize, width / (longest * emPerChar)));
}

/** A small locale label (e.g. `PT-BR`) on a dark rounded tag: which locale an image is, at a glance. */
export function localeTag(locale: string, fontSize: number): { svg: Buffer; width: number; height: number } {
  const label = escapeXml(locale.toUpperCase());
  const width = Math.round(fontSize * (0.8 + 0.72 * locale.length));
  const height = Math.round(fontSize * 1.6);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect x="2" y="2" width="${width - 4}" height="${height - 4}" rx="${height / 4}" fill="#000000" fill-opacity="0.6" stroke="#ffffff" stroke-width="3"/>` +
    `<text x="${width / 2}" y="${height / 2}" dy="0.36em" text-anchor="middle" font-family="${FONT_FAMILY}" font-weight="bold" font-size="${fontSize}" fill="#ffffff">${label}</text>` +
    '</svg>';
  return { svg: Buffer.from(svg), width, height };
}
