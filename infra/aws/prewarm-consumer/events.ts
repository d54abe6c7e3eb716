import { Check } from '@sinclair/typebox/value';
import { Type, type Catalog } from '@marquee/shared';

/**
 * SQS records carrying S3 event notifications, read into what changed. Pure: no AWS, no clock, so
 * the consumer's first step is tested without either.
 */

/** What one S3 event says changed, as the consumer acts on it. */
export type Change =
  /** An object under the artwork prefix: the catalog entries that name it are prewarmed. */
  | { kind: 'artwork'; bucket: string; key: string }
  /** The catalog object: every title may have a new version or source. */
  | { kind: 'catalog' }
  /** The rules object: every type may have a new look. */
  | { kind: 'rules' };

/** Where the objects the consumer acts on live (from its environment). */
export interface Watched {
  sourcesBucket: string;
  artworkPrefix: string;
  catalog: { bucket: string; key: string };
  /** Undefined when the rules are not an S3 object (baked into the bundle). */
  rules: { bucket: string; key: string } | undefined;
}

/** One SQS record, read: its changes, or why it cannot be (the record is then a batch item failure). */
export type ParsedRecord =
  | { messageId: string; ok: true; changes: Change[]; ignored: string[] }
  | { messageId: string; ok: false; reason: string };

/** The fields of an SQS record the consumer reads (`aws-lambda`'s SQSRecord has these and more). */
export interface SqsRecordLike {
  messageId: string;
  body: string;
}

const S3EventRecordSchema = Type.Object({
  eventSource: Type.Literal('aws:s3'),
  eventName: Type.String({ minLength: 1 }),
  s3: Type.Object({
    bucket: Type.Object({ name: Type.String({ minLength: 1 }) }),
    object: Type.Object({ key: Type.String({ minLength: 1 }) }),
  }),
});
const S3EventSchema = Type.Object({ Records: Type.Array(S3EventRecordSchema, { minItems: 1 }) });
/** What S3 sends once when a notification configuration is saved: nothing to do. */
const TestEventSchema = Type.Object({ Event: Type.Literal('s3:TestEvent') });

/** Reads one record; never throws (a bad record must not fail its batch's good ones). */
export function parseRecord(record: SqsRecordLike, watched: Watched): ParsedRecord {
  const { messageId } = record;
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { messageId, ok: false, reason: 'the body is not JSON' };
  }
  if (Check(TestEventSchema, body)) return { messageId, ok: true, changes: [], ignored: ['s3:TestEvent'] };
  if (!Check(S3EventSchema, body)) return { messageId, ok: false, reason: 'the body is not an S3 event notification' };
  const changes: Change[] = [];
  const ignored: string[] = [];
  for (const r of body.Records) {
    const bucket = r.s3.bucket.name;
    const key = objectKey(r.s3.object.key);
    if (key === undefined) return { messageId, ok: false, reason: `undecodable object key ${r.s3.object.key}` };
    const where = `${r.eventName} s3://${bucket}/${key}`;
    // Only creations are configured; anything else (a removal added by hand) has nothing to warm.
    if (!r.eventName.startsWith('ObjectCreated:')) ignored.push(where);
    else if (bucket === watched.catalog.bucket && key === watched.catalog.key) changes.push({ kind: 'catalog' });
    else if (watched.rules !== undefined && bucket === watched.rules.bucket && key === watched.rules.key) {
      changes.push({ kind: 'rules' });
    } else if (bucket === watched.sourcesBucket && key.startsWith(watched.artworkPrefix)) {
      changes.push({ kind: 'artwork', bucket, key });
    } else ignored.push(where);
  }
  return { messageId, ok: true, changes, ignored };
}

/**
 * An event's object key as stored: S3 sends it URL-encoded the way HTML forms are (`+` for a
 * space), so `titles/1/boxshot/pt+BR.jpg` names `titles/1/boxshot/pt BR.jpg`.
 */
export function objectKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** One title's artwork of one type and locale: the unit a new source object changes. */
export interface ArtworkRef {
  titleId: string;
  type: string;
  locale: string;
}

/**
 * The catalog entries whose source is `key` in the sources bucket. Empty when the catalog does not
 * name it yet: a catalog service writes the source first and the catalog after, and the catalog's
 * own event then prewarms it.
 */
export function artworkUsing(catalog: Catalog, key: string): ArtworkRef[] {
  const out: ArtworkRef[] = [];
  for (const [titleId, title] of Object.entries(catalog.titles)) {
    for (const [type, locales] of Object.entries(title.artwork)) {
      for (const [locale, entry] of Object.entries(locales)) {
        if (entry.source === key) out.push({ titleId, type, locale });
      }
    }
  }
  return out;
}
