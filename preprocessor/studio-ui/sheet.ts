import type { Tile } from './tiles.js';
import { formatBytes } from './dom.js';

/** Contact sheet layout: tiles scaled to this height at most, wrapped at this width. */
const MAX_TILE_HEIGHT = 240;
const SHEET_WIDTH = 1600;
const GAP = 16;
const CAPTION = 34;
const HEADING = 36;

interface Placed {
  tile: Tile & { img: HTMLImageElement };
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A PNG of the rendered tiles, grouped by row, each captioned with its size, format and bytes. */
export async function contactSheet(title: string, groups: Array<{ heading: string; tiles: Tile[] }>): Promise<Blob> {
  const placed: Placed[] = [];
  const headings: Array<{ text: string; y: number }> = [];
  let y = GAP + HEADING;
  for (const group of groups) {
    const ready = group.tiles.filter((t): t is Tile & { img: HTMLImageElement } => t.img !== undefined);
    if (ready.length === 0) continue;
    headings.push({ text: group.heading, y: y + 24 });
    y += HEADING;
    let x = GAP;
    let rowHeight = 0;
    for (const tile of ready) {
      const scale = Math.min(
        1,
        MAX_TILE_HEIGHT / tile.img.naturalHeight,
        (SHEET_WIDTH - 2 * GAP) / tile.img.naturalWidth,
      );
      const w = Math.round(tile.img.naturalWidth * scale);
      const h = Math.round(tile.img.naturalHeight * scale);
      if (x + w > SHEET_WIDTH - GAP && x > GAP) {
        x = GAP;
        y += rowHeight + CAPTION + GAP;
        rowHeight = 0;
      }
      placed.push({ tile, x, y, w, h });
      x += Math.max(w, 150) + GAP;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight + CAPTION + GAP;
  }
  const canvas = document.createElement('canvas');
  canvas.width = SHEET_WIDTH;
  canvas.height = Math.max(y, 2 * HEADING);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas in this browser');
  ctx.fillStyle = '#141414';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#f5f5f5';
  ctx.font = 'bold 20px system-ui, sans-serif';
  ctx.fillText(title, GAP, GAP + 20);
  ctx.font = 'bold 16px system-ui, sans-serif';
  for (const heading of headings) ctx.fillText(heading.text, GAP, heading.y);
  ctx.font = '13px system-ui, sans-serif';
  for (const p of placed) {
    ctx.drawImage(p.tile.img, p.x, p.y, p.w, p.h);
    const fmt = p.tile.rendered?.contentType.replace(/^image\//, '') ?? p.tile.fmt;
    const bytes = p.tile.rendered ? formatBytes(p.tile.rendered.bytes) : '';
    ctx.fillStyle = '#f5f5f5';
    ctx.fillText(`${p.tile.img.naturalWidth}×${p.tile.img.naturalHeight}`, p.x, p.y + p.h + 15);
    ctx.fillStyle = '#aaaaaa';
    ctx.fillText(`${fmt} · ${bytes}`, p.x, p.y + p.h + 30);
  }
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('the contact sheet could not be encoded'))),
      'image/png',
    ),
  );
}
