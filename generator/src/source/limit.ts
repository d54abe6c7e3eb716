import { MarqueeError } from '@marquee/shared';

/**
 * Reads a body into one buffer, refusing it the moment it passes `maxBytes`:
 * `destroy` is called at once so no further bytes are read or buffered.
 */
export async function readCapped(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  destroy: () => void,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      destroy();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export function tooLarge(maxBytes: number): MarqueeError {
  return new MarqueeError('SOURCE_TOO_LARGE', `source is larger than ${maxBytes} bytes`);
}

/** Content-Length, when the origin sent a usable one. */
export function declaredLength(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
