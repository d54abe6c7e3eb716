/**
 * Reads a body into one buffer, or gives undefined the moment it passes `maxBytes`: `destroy` is
 * called at once, so no further bytes are read or buffered. The one capped reader: the
 * Generator's source fetches (a too-large master is its error) and the Preprocessor's
 * derivative-store reads (a too-large object is a miss) each decide what passing the cap means.
 */
export async function readCapped(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  destroy: () => void,
): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
