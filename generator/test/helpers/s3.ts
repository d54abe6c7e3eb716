import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  endpoint: string;
  client: S3Client;
  put(bucket: string, key: string, body: Buffer | string, contentType?: string): Promise<void>;
  get(bucket: string, key: string): Promise<{ body: Buffer; contentType?: string; cacheControl?: string }>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A real s3rver on 127.0.0.1:0 in a temp directory, closed and removed at teardown. */
export async function startS3(t: Teardown, buckets: string[]): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'marquee-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  t.teardown(async () => {
    client.destroy();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });
  return {
    endpoint,
    client,
    async put(bucket, key, body, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async get(bucket, key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      return { body, contentType: out.ContentType, cacheControl: out.CacheControl };
    },
  };
}

/**
 * A client for `Deps.s3Client` that hands every command to `client`, except that each PutObject
 * first goes through `onPut`: it may record what it sees, or throw (reject) to fail that PUT.
 */
export function watchedPuts(client: S3Client, onPut: (input: PutObjectCommandInput) => void | Promise<void>): S3Client {
  const send = async (command: { input: unknown }, options?: unknown): Promise<unknown> => {
    if (command instanceof PutObjectCommand) await onPut(command.input);
    return (client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
  };
  return { send } as unknown as S3Client;
}
