import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LRUCache } from 'lru-cache';
import { DRAFTS_PREFIX, MarqueeError, type DraftSummary, type RulesProblem } from '@marquee/shared';
import type { Rules } from '../rules/schema.js';
import { checkRulesText } from './rules-text.js';
import { DRAFTS_LISTED, DRAFTS_PARSED, DRAFT_LIST_PAGES } from './limits.js';

/** A draft as saved: its text, the rules it parses to, and the rules version it was opened from. */
export interface SavedDraft {
  id: string;
  yaml: string;
  rev: string;
  rules: Rules;
  savedAt: Date;
  /** The rules ETag in force when the draft was opened. */
  base: string;
}

const DRAFT_ID = /^[0-9a-f]{16}$/;
const DRAFT_KEY = /^drafts\/([0-9a-f]{16})\.yaml$/;

export function isDraftId(value: string): boolean {
  return DRAFT_ID.test(value);
}

export function draftKey(id: string): string {
  return `${DRAFTS_PREFIX}${id}.yaml`;
}

/** The revision a text is saved as: equal texts, equal revisions, on every instance. */
export function draftRev(yaml: string): string {
  return createHash('sha256').update(yaml).digest('hex').slice(0, 16);
}

/** The error a refused draft text answers with: the loader's message, its field, line and column. */
export function invalidDraft(problem: RulesProblem): MarqueeError {
  const where = problem.line === undefined ? '' : `line ${problem.line}, column ${problem.column ?? 1}: `;
  return new MarqueeError('INVALID_PARAMETER', `${where}${problem.message}`, { extra: { ...problem } });
}

/** S3 metadata is ASCII header text: the base ETag (quotes and all) travels base64url-encoded. */
function encodeMeta(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}
function decodeMeta(value: string | undefined): string {
  return value === undefined ? '' : Buffer.from(value, 'base64url').toString('utf8');
}

/**
 * Rules drafts in the sources bucket under `drafts/<id>.yaml`: any Preprocessor instance opens
 * any draft, so a link to one can be shared. Only valid rules are saved (the loader decides), so
 * every saved draft renders. Parsed drafts are kept by revision: a tile render reads S3 only
 * when the draft was saved again since.
 */
export class SavedDrafts {
  private readonly parsed = new LRUCache<string, SavedDraft>({ max: DRAFTS_PARSED });

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** Saves a valid text under `id` (a new id when absent); throws a 400 naming the line and field otherwise. */
  async save(yaml: string, base: string, id = randomBytes(8).toString('hex')): Promise<SavedDraft> {
    const checked = checkRulesText(yaml, `draft ${id}`);
    if (!checked.ok) throw invalidDraft(checked.problem);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: draftKey(id),
        Body: yaml,
        ContentType: 'application/yaml; charset=utf-8',
        Metadata: { 'base-etag': encodeMeta(base) },
      }),
    );
    const draft: SavedDraft = { id, yaml, rev: draftRev(yaml), rules: checked.rules, savedAt: new Date(), base };
    this.parsed.set(id, draft);
    return draft;
  }

  /** The draft as saved now; 404 when there is none. */
  async load(id: string): Promise<SavedDraft> {
    let res;
    try {
      res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: draftKey(id) }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) throw new MarqueeError('NOT_FOUND', `There is no draft ${id}.`, { cause: err });
      // S3 answers a missing key with 403 to a role that may not list the whole bucket (the
      // Preprocessor's may list drafts/ only): the same answer, the cause kept for the log.
      if (status === 403) {
        throw new MarqueeError('NOT_FOUND', `There is no draft ${id} this Preprocessor may read.`, { cause: err });
      }
      throw err;
    }
    const yaml = (await res.Body?.transformToString('utf8')) ?? '';
    const rev = draftRev(yaml);
    const known = this.parsed.get(id);
    if (known?.rev === rev) return known;
    const checked = checkRulesText(yaml, `draft ${id}`);
    // Written by hand into the bucket, or by an older loader: say so rather than render it.
    if (!checked.ok) throw invalidDraft(checked.problem);
    const draft: SavedDraft = {
      id,
      yaml,
      rev,
      rules: checked.rules,
      savedAt: res.LastModified ?? new Date(),
      base: decodeMeta(res.Metadata?.['base-etag']),
    };
    this.parsed.set(id, draft);
    return draft;
  }

  /**
   * The draft at revision `rev`, as a signed preview names it. A draft saved again since is
   * refused (404): the page signs its tiles anew after each save, so an old tile never shows
   * new rules under an old caption.
   */
  async at(id: string, rev: string): Promise<SavedDraft> {
    const known = this.parsed.get(id);
    if (known?.rev === rev) return known;
    const draft = await this.load(id);
    if (draft.rev !== rev) {
      throw new MarqueeError('NOT_FOUND', `Draft ${id} was saved again since revision ${rev}: refresh the preview.`);
    }
    return draft;
  }

  /** The most recently saved drafts, newest first. */
  async list(): Promise<DraftSummary[]> {
    const drafts: DraftSummary[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: DRAFTS_PREFIX, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const id = DRAFT_KEY.exec(object.Key ?? '')?.[1];
        if (id === undefined) continue;
        drafts.push({ id, savedAt: (object.LastModified ?? new Date(0)).toISOString(), bytes: object.Size ?? 0 });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      pages += 1;
    } while (token !== undefined && pages < DRAFT_LIST_PAGES);
    return drafts
      .sort((a, b) => b.savedAt.localeCompare(a.savedAt) || a.id.localeCompare(b.id))
      .slice(0, DRAFTS_LISTED);
  }
}
