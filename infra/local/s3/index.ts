import { mkdir } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface LocalS3Options {
  /** Where objects live on disk (kept across restarts). */
  directory: string;
  host?: string;
  port?: number;
  /** Buckets created at start (existing ones are kept). */
  buckets: string[];
}

export interface LocalS3 {
  /** `http://host:port`: the `endpoint` for an S3 client with `forcePathStyle`. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/** s3rver accepts any signature made with these; the SDK needs some credentials to sign with. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_S3_REGION = 'us-east-1';

/** Starts s3rver, an S3-compatible server on the local disk. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    // Path-style only: virtual-host names like bucket.127.0.0.1 do not resolve.
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
    close: () => (closing ??= server.close()),
  };
}

/**
 * An S3 client for the local S3. Checksums only when required: s3rver predates
 * the SDK's default CRC32 checksums and aws-chunked uploads.
 */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_S3_REGION,
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
