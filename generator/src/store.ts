import { MarqueeError, extensionOf, parseStoreRequest, sniffImageFormat, type StoreRequest } from '@marquee/shared';
import type { Deps } from './deps.js';
import type { Generated } from './generate.js';
import { checkOutputTarget, putDerivative } from './output.js';

/**
 * The derivative store's two writes, both in the foreground of an invocation (a frozen Lambda
 * never finishes background work):
 *
 * - a store request (`kind: 'store'`): the Preprocessor, after replying with an output it
 *   rendered, hands the bytes back in an asynchronous invocation, and they are PUT here;
 * - a render with `store: true` (a prewarm): the output is always written, never returned inline.
 */

/** The content type each output format is written with, and the extension its key must carry. */
const EXTENSIONS: Record<StoreRequest['contentType'], string> = {
  'image/jpeg': extensionOf('jpeg'),
  'image/png': extensionOf('png'),
  'image/webp': extensionOf('webp'),
  'image/avif': extensionOf('avif'),
};

/** Writes a store request's bytes to its target, inside the derivatives prefix only. */
export async function storeOutput(event: unknown, deps: Deps): Promise<Generated> {
  const request = parseStoreRequest(event);
  // The same check a render's `output` gets: the configured bucket, the derivatives prefix, no `..`.
  const target = checkOutputTarget(request.target, deps);
  if (!target.key.endsWith(`.${EXTENSIONS[request.contentType]}`)) {
    throw new MarqueeError(
      'INVALID_SPEC',
      `a ${request.contentType} output must be stored under a .${EXTENSIONS[request.contentType]} key`,
    );
  }
  const data = Buffer.from(request.body, 'base64');
  // The bytes must be the image the key names: a mislabelled object would be served as it is labelled.
  const format = sniffImageFormat(data);
  if (format === undefined || format === 'gif' || EXTENSIONS[request.contentType] !== extensionOf(format)) {
    throw new MarqueeError('INVALID_SPEC', `the body is not a ${request.contentType} image`);
  }
  const started = performance.now();
  await putDerivative(target, data, request.contentType, deps);
  return {
    ok: true,
    contentType: request.contentType,
    width: request.width,
    height: request.height,
    bytes: data.length,
    s3: target,
    timings: { fetchMs: 0, renderMs: Math.round((performance.now() - started) * 100) / 100 },
  };
}
