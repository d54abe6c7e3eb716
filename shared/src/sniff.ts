/** Image formats Marquee reads; anything else (SVG, TIFF, HEIC, PDF, …) is refused. */
export const INPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

function ascii(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}

/** ISO-BMFF `ftyp` whose major or a compatible brand is AVIF. */
function isAvif(buf: Buffer): boolean {
  if (buf.length < 16 || ascii(buf, 4, 8) !== 'ftyp') return false;
  const size = Math.min(buf.readUInt32BE(0), buf.length);
  for (let at = 8; at + 4 <= size; at += 4) {
    if (at === 12) continue; // minor version, not a brand
    const brand = ascii(buf, at, at + 4);
    if (brand === 'avif' || brand === 'avis') return true;
  }
  return false;
}

/** The format named by the bytes' magic number: never by a file name or a Content-Type. */
export function sniffImageFormat(buf: Buffer): InputFormat | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (buf.length >= 12 && ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  if (buf.length >= 6 && (ascii(buf, 0, 6) === 'GIF87a' || ascii(buf, 0, 6) === 'GIF89a')) return 'gif';
  if (isAvif(buf)) return 'avif';
  return undefined;
}
