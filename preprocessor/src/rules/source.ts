import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RulesError } from './errors.js';

/** A document's text and the tag that says which version it is. */
export interface DocumentSnapshot {
  text: string;
  /** S3's ETag, or `sha256:<hex>` of a file's content. */
  etag: string;
}

/** Where a rules or catalog document lives: a local file or an S3 object. */
export interface DocumentSource {
  /** As given: a path or an `s3://bucket/key` URL. Names the document in errors. */
  readonly location: string;
  /**
   * The document, or `unchanged` when it is still the version tagged `etag`.
   * Throws a RulesError when it cannot be read.
   */
  fetch(etag?: string): Promise<DocumentSnapshot | 'unchanged'>;
}

/** Largest document we read: a catalog export, not a data lake. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

export function isS3Location(location: string): boolean {
  return location.startsWith('s3://');
}

/** A file path or `s3://bucket/key` (an S3 location needs `s3Client`). */
export function openDocument(location: string, s3Client?: S3Client): DocumentSource {
  if (!isS3Location(location)) return new FileDocument(location);
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new RulesError(location, undefined, 'expected s3://bucket/key');
  if (!s3Client) throw new RulesError(location, undefined, 'an S3 location needs an S3 client');
  return new S3Document(location, s3Client, match[1] as string, match[2] as string);
}

/**
 * A local file. A poll costs one `stat`: the content is read and hashed only
 * when inode, size or mtime moved, and a touched file with the same bytes
 * is still `unchanged`.
 */
class FileDocument implements DocumentSource {
  private lastStat: string | undefined;
  private lastEtag: string | undefined;

  constructor(readonly location: string) {}

  async fetch(etag?: string): Promise<DocumentSnapshot | 'unchanged'> {
    try {
      const st = await stat(this.location, { bigint: true });
      const fingerprint = `${st.ino}:${st.size}:${st.mtimeNs}`;
      if (etag !== undefined && etag === this.lastEtag && fingerprint === this.lastStat) return 'unchanged';
      if (st.size > BigInt(MAX_DOCUMENT_BYTES)) {
        throw new RulesError(this.location, undefined, `larger than ${MAX_DOCUMENT_BYTES} bytes`);
      }
      const text = await readFile(this.location, 'utf8');
      const next = `sha256:${createHash('sha256').update(text).digest('hex')}`;
      this.lastStat = fingerprint;
      this.lastEtag = next;
      return next === etag ? 'unchanged' : { text, etag: next };
    } catch (err) {
      if (err instanceof RulesError) throw err;
      throw new RulesError(
        this.location,
        undefined,
        `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}

/** An S3 object, polled with a conditional GET (`If-None-Match`): an unchanged object costs a 304. */
class S3Document implements DocumentSource {
  constructor(
    readonly location: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {}

  async fetch(etag?: string): Promise<DocumentSnapshot | 'unchanged'> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key, IfNoneMatch: etag }),
      );
      if (res.ContentLength !== undefined && res.ContentLength > MAX_DOCUMENT_BYTES) {
        (res.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new RulesError(this.location, undefined, `larger than ${MAX_DOCUMENT_BYTES} bytes`);
      }
      const text = (await res.Body?.transformToString('utf8')) ?? '';
      const next = res.ETag ?? `sha256:${createHash('sha256').update(text).digest('hex')}`;
      return next === etag ? 'unchanged' : { text, etag: next };
    } catch (err) {
      if (err instanceof RulesError) throw err;
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 304) return 'unchanged';
      const name = (err as Error).name;
      const detail =
        status === 404 ? `not found (${name})` : `cannot read: ${name}${status ? ` (HTTP ${status})` : ''}`;
      throw new RulesError(this.location, undefined, detail, { cause: err });
    }
  }
}
