import sharp from 'sharp';
import { FONT_FAMILY } from './svg.js';

/** Overlay badges the rules attach by title flag; keys in the sources bucket. */
export const BADGE_KEYS = { top10: 'badges/top10.png', new: 'badges/new.png' } as const;
export type Badge = keyof typeof BADGE_KEYS;

/** Badge side: overlays are scaled by the renderer, so one size serves every output. */
export const BADGE_SIZE = 256;

const RED =
  '<linearGradient id="red" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f0202a"/><stop offset="1" stop-color="#a8060e"/></linearGradient>';

const BADGE_SVG: Record<Badge, string> = {
  top10:
    `<defs>${RED}</defs>` +
    '<rect x="12" y="12" width="232" height="232" rx="28" fill="url(#red)" stroke="#ffffff" stroke-width="6"/>' +
    `<text x="128" y="108" text-anchor="middle" font-family="${FONT_FAMILY}" font-weight="bold" font-size="62" fill="#ffffff">TOP</text>` +
    `<text x="128" y="210" text-anchor="middle" font-family="${FONT_FAMILY}" font-weight="bold" font-size="104" fill="#ffffff">10</text>`,
  new:
    `<defs>${RED}</defs>` +
    '<rect x="8" y="76" width="240" height="104" rx="52" fill="url(#red)" stroke="#ffffff" stroke-width="6"/>' +
    `<text x="128" y="152" text-anchor="middle" font-family="${FONT_FAMILY}" font-weight="bold" font-size="66" fill="#ffffff">NEW</text>`,
};

/** A badge as a PNG with alpha (transparent around the shape). */
export function renderBadge(badge: Badge): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${BADGE_SIZE}" height="${BADGE_SIZE}">${BADGE_SVG[badge]}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
