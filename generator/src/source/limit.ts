import { MarqueeError, readCapped } from '@marquee/shared';

/** `readCapped` of `@marquee/shared`, a source past the cap being SOURCE_TOO_LARGE. */
export async function readSource(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  destroy: () => void,
): Promise<Buffer> {
  const bytes = await readCapped(body, maxBytes, destroy);
  if (bytes === undefined) throw tooLarge(maxBytes);
  return bytes;
}

export function tooLarge(maxBytes: number): MarqueeError {
  return new MarqueeError('SOURCE_TOO_LARGE', `source is larger than ${maxBytes} bytes`);
}

/** Content-Length, when the origin sent a usable one. */
export function declaredLength(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
