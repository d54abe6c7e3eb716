import { readFile } from 'node:fs/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import YAML from 'yaml';

/** What the importer needs of the rules before the Preprocessor loads them: the type names and the default locale. */
export interface RulesOutline {
  types: ReadonlySet<string>;
  defaultLocale: string;
}

/**
 * The outline of the rules at `location` (a file or `s3://bucket/key`); undefined when they cannot
 * be read (the Preprocessor then refuses them at its start with the precise reason).
 */
export async function readRulesOutline(location: string, client: S3Client): Promise<RulesOutline | undefined> {
  try {
    const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
    const text = s3
      ? await (await client.send(new GetObjectCommand({ Bucket: s3[1], Key: s3[2] }))).Body!.transformToString('utf8')
      : await readFile(location, 'utf8');
    const doc = YAML.parse(text) as { types?: unknown; defaultLocale?: unknown } | null;
    if (doc === null || typeof doc.types !== 'object' || doc.types === null || typeof doc.defaultLocale !== 'string')
      return undefined;
    return { types: new Set(Object.keys(doc.types)), defaultLocale: doc.defaultLocale };
  } catch {
    return undefined;
  }
}
