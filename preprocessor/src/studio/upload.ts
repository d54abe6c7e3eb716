import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import {
  FORMAT_EXTENSIONS,
  MarqueeError,
  StagedUploadSchema,
  contentTypeOf,
  extensionOf,
  type StagedUpload,
} from '@marquee/shared';
import { checkUpload } from './image-check.js';
import { MAX_UPLOAD_BYTES, STAGING_PREFIX, UPLOAD_NAME } from './limits.js';

/** `staging/<32 hex>.<ext>`: the only keys an upload ever writes, and the only unpublished keys a studio signs. */
const STAGING_KEY = new RegExp(`^staging/[0-9a-f]{32}\\.(?:${Object.values(FORMAT_EXTENSIONS).join('|')})$`);

export function isStagingKey(key: string): boolean {
  return STAGING_KEY.test(key);
}

function newStagingKey(ext: string): string {
  return `${STAGING_PREFIX}${randomBytes(16).toString('hex')}.${ext}`;
}

/** A file name as a person gave it: no directories, no control or odd characters. */
export function checkUploadName(name: string): string {
  if (!UPLOAD_NAME.test(name)) {
    throw new MarqueeError(
      'INVALID_PARAMETER',
      'file name: expected a plain name (letters, digits, space, . _ - ( ) +), without a path',
    );
  }
  return name;
}

/** A 128-bit random key never meets an existing one; IfNoneMatch makes S3 prove it. */
const PUT_ATTEMPTS = 3;

export const uploadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(multipart, {
    // Busboy strips directories by default; we want to see them, to refuse them.
    preservePath: true,
    limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 4, fieldSize: 1024, parts: 6, headerPairs: 32 },
  });

  app.post('/studio/api/upload', { schema: { response: { 201: StagedUploadSchema } } }, async (request, reply) => {
    if (!request.isMultipart()) throw new MarqueeError('INVALID_PARAMETER', 'expected a multipart/form-data upload');
    const part = await request.file();
    if (!part) throw new MarqueeError('INVALID_PARAMETER', 'expected one file part');
    try {
      checkUploadName(part.filename);
    } catch (err) {
      part.file.resume(); // drain, so the reply is not stuck behind an unread body
      throw err;
    }
    let body: Buffer;
    try {
      body = await part.toBuffer();
    } catch (err) {
      if (err instanceof app.multipartErrors.RequestFileTooLargeError) {
        throw new MarqueeError(
          'PAYLOAD_TOO_LARGE',
          `The file is larger than ${MAX_UPLOAD_BYTES / (1024 * 1024)} MiB.`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    const image = await checkUpload(body);
    const contentType = contentTypeOf(image.format);
    for (let attempt = 1; ; attempt++) {
      const key = newStagingKey(extensionOf(image.format));
      try {
        await app.s3.send(
          new PutObjectCommand({
            Bucket: app.config.sourcesBucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            // Never over an existing object, published or staged.
            IfNoneMatch: '*',
            Metadata: { 'original-name': part.filename },
          }),
        );
      } catch (err) {
        const exists = err instanceof S3ServiceException && err.$metadata.httpStatusCode === 412;
        if (exists && attempt < PUT_ATTEMPTS) continue;
        throw err;
      }
      request.log.info({ key, bytes: body.length, format: image.format }, 'studio upload staged');
      const staged: StagedUpload = { ...image, key, name: part.filename, bytes: body.length, contentType };
      return reply.code(201).send(staged);
    }
  });
};
