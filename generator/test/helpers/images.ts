import sharp from 'sharp';

/**
 * A photo-like RGB image: smooth gradients plus per-pixel noise, so encoders
 * and the attention strategy see real detail rather than a flat colour.
 */
export function photoRaw(width: number, height: number, seed = 1): Buffer {
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      const noise = (s >>> 24) % 24;
      const i = (y * width + x) * 3;
      data[i] = Math.min(255, Math.round((x / width) * 120) + noise + 40);
      data[i + 1] = Math.min(255, Math.round((y / height) * 140) + noise + 40);
      data[i + 2] = Math.min(255, Math.round(((x + y) / (width + height)) * 100) + noise + 60);
    }
  }
  return data;
}

export function photo(width: number, height: number, seed = 1) {
  return sharp(photoRaw(width, height, seed), { raw: { width, height, channels: 3 } });
}

export async function photoJpeg(width: number, height: number, quality = 85): Promise<Buffer> {
  return photo(width, height).jpeg({ quality }).toBuffer();
}

/** A photo with a pure red square centred at (cx, cy), in pixels. */
export async function photoWithRedSquare(
  width: number,
  height: number,
  cx: number,
  cy: number,
  side: number,
): Promise<Buffer> {
  const square = await sharp({ create: { width: side, height: side, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .png()
    .toBuffer();
  return photo(width, height)
    .composite([{ input: square, left: Math.round(cx - side / 2), top: Math.round(cy - side / 2) }])
    .png()
    .toBuffer();
}

/**
 * A photo with a pure red band across its short side, from `from` to `to` (in
 * pixels along the long side): the one salient thing in an extreme strip.
 */
export async function stripWithRedBand(width: number, height: number, from: number, to: number): Promise<Buffer> {
  const along = width >= height;
  const band = await sharp({
    create: {
      width: along ? to - from : width,
      height: along ? height : to - from,
      channels: 3,
      background: { r: 255, g: 0, b: 0 },
    },
  })
    .png()
    .toBuffer();
  return photo(width, height)
    .composite([{ input: band, left: along ? from : 0, top: along ? 0 : from }])
    .png()
    .toBuffer();
}

/** Counts pixels that are clearly red (RGB raw of the decoded image). */
export async function redPixels(image: Buffer): Promise<number> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < info.width * info.height * 3; i += 3) {
    if ((data[i] ?? 0) > 200 && (data[i + 1] ?? 255) < 60 && (data[i + 2] ?? 255) < 60) n++;
  }
  return n;
}

/** The RGB(A) of one pixel of a decoded image. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [...data.subarray(i, i + info.channels)];
}

/**
 * A PNG header declaring width x height with a tiny IDAT: a decompression
 * bomb's shape, a few dozen bytes that would decode to gigabytes.
 */
export function pixelFloodPng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = (crcTable[(c ^ b) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idat = Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Magic-number checks on output bytes, independent of sharp. */
export function magicFormat(buf: Buffer): string | undefined {
  if (buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (buf.toString('latin1', 4, 8) === 'ftyp' && buf.toString('latin1', 8, 12) === 'avif') return 'avif';
  return undefined;
}
