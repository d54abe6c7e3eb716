import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isS3Location, openDocument } from '../rules/source.js';

/**
 * Where the Preprocessors read their rules (a file, or an S3 object), and the history kept beside
 * it: read, write, and list, with the same version tags (ETags) the rules poller reports.
 */

/** A document's text and the tag the rules poller (and `/readyz`) reports for it. */
export interface Versioned {
  text: string;
  etag: string;
}

/** Another publish wrote the rules between our read and our write. */
export class PublishConflictError extends Error {
  override name = 'PublishConflictError';
}

export interface RulesTarget {
  /** As given: a path or `s3://bucket/key`. */
  readonly location: string;
  /** Where the history is kept, for messages: a directory or an `s3://bucket/prefix/`. */
  readonly historyLocation: string;
  /** The rules in force, or undefined when there are none yet. */
  read(): Promise<Versioned | undefined>;
  /**
   * Replaces the rules, provided they are still the version `expected` (undefined: none yet).
   * Answers the new version's tag. Throws a PublishConflictError otherwise.
   */
  write(text: string, expected: string | undefined): Promise<string>;
  /** Writes a history file (`<id>.yaml`, `<id>.json`). */
  putHistory(name: string, body: string, contentType: string): Promise<void>;
  /** A history file's text, or undefined. */
  getHistory(name: string): Promise<string | undefined>;
  /** Every history file name. */
  listHistory(): Promise<string[]>;
}

/** The directory of history files beside the rules. */
export const HISTORY_DIR = 'rules-history';

/** A file path or `s3://bucket/key` (an S3 location needs `s3Client`). */
export function openTarget(location: string, s3Client?: S3Client): RulesTarget {
  if (!isS3Location(location)) return new FileTarget(location);
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new RangeError(`${location}: expected s3://bucket/key`);
  if (!s3Client) throw new RangeError(`${location}: an S3 location needs an S3 client`);
  return new S3Target(location, s3Client, match[1] as string, match[2] as string);
}

/** Reads through the rules poller's own document reader, so tags are spelled as it spells them. */
async function readDocument(location: string, s3Client?: S3Client): Promise<Versioned | undefined> {
  try {
    const snapshot = await openDocument(location, s3Client).fetch();
    if (snapshot === 'unchanged') throw new Error(`${location}: unexpected "unchanged" on a first read`);
    return snapshot;
  } catch (err) {
    if (isMissing((err as { cause?: unknown }).cause)) return undefined;
    throw err;
  }
}

function isMissing(cause: unknown): boolean {
  const c = cause as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return c?.code === 'ENOENT' || c?.name === 'NoSuchKey' || c?.$metadata?.httpStatusCode === 404;
}

class FileTarget implements RulesTarget {
  readonly historyLocation: string;

  constructor(readonly location: string) {
    this.historyLocation = path.join(path.dirname(location), HISTORY_DIR);
  }

  read(): Promise<Versioned | undefined> {
    return readDocument(this.location);
  }

  /**
   * Written beside, then renamed over: a Preprocessor polling the file reads the old rules or the
   * new ones, never half of them. The check-then-rename leaves a window of a few milliseconds in
   * which another publish could slip in; S3 targets have none (a conditional PUT).
   */
  async write(text: string, expected: string | undefined): Promise<string> {
    const now = await this.read();
    if (now?.etag !== expected) {
      throw new PublishConflictError(`${this.location} changed since it was read (now ${now?.etag ?? 'absent'})`);
    }
    const temporary = `${this.location}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, text, 'utf8');
    try {
      await rename(temporary, this.location);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
    return `sha256:${createHash('sha256').update(text).digest('hex')}`;
  }

  async putHistory(name: string, body: string): Promise<void> {
    await mkdir(this.historyLocation, { recursive: true });
    await writeFile(path.join(this.historyLocation, name), body, 'utf8');
  }

  async getHistory(name: string): Promise<string | undefined> {
    try {
      return await readFile(path.join(this.historyLocation, path.basename(name)), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async listHistory(): Promise<string[]> {
    try {
      return await readdir(this.historyLocation);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

class S3Target implements RulesTarget {
  readonly historyLocation: string;
  private readonly prefix: string;

  constructor(
    readonly location: string,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
  ) {
    const dir = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
    this.prefix = `${dir}${HISTORY_DIR}/`;
    this.historyLocation = `s3://${bucket}/${this.prefix}`;
  }

  read(): Promise<Versioned | undefined> {
    return readDocument(this.location, this.client);
  }

  /**
   * A conditional PUT: S3 refuses it (412) when the object is no longer the version read. Checked
   * by a read first as well, for S3 emulations that ignore the condition (s3rver does).
   */
  async write(text: string, expected: string | undefined): Promise<string> {
    const now = await this.read();
    if (now?.etag !== expected) {
      throw new PublishConflictError(`${this.location} changed since it was read (now ${now?.etag ?? 'absent'})`);
    }
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: text,
          ContentType: 'application/yaml; charset=utf-8',
          ...(expected === undefined ? { IfNoneMatch: '*' } : { IfMatch: expected }),
        }),
      );
      return out.ETag ?? `sha256:${createHash('sha256').update(text).digest('hex')}`;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) {
        throw new PublishConflictError(`${this.location} changed since it was read`, { cause: err });
      }
      throw err;
    }
  }

  async putHistory(name: string, body: string, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + name, Body: body, ContentType: contentType }),
    );
  }

  async getHistory(name: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + name }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async listHistory(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
      );
      for (const object of out.Contents ?? []) if (object.Key) names.push(object.Key.slice(this.prefix.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
    return names;
  }
}
