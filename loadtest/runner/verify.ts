import sharp, { type Metadata } from 'sharp';
import type { Reply } from './load.js';

export type VerifyMode = 'all' | 'unique' | 'none';

/** What each requested extension may come back as (`auto` is negotiated from Accept). */
const FORMATS_BY_EXT: Record<string, readonly string[]> = {
  jpg: ['jpeg'],
  png: ['png'],
  webp: ['webp'],
  avif: ['heif'],
  auto: ['heif', 'webp', 'jpeg', 'png'],
};

const CONTENT_TYPE_FORMAT: Record<string, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'heif',
};

export interface VerifyFailure {
  path: string;
  accept: string;
  problem: string;
}

export interface VerifyResult {
  checked: number;
  skipped: number;
  failures: VerifyFailure[];
}

/** Keeps 200 replies during the run and decodes them afterwards (decoding during the run would steal the server's CPU). */
export class ReplyVerifier {
  private readonly kept: Reply[] = [];
  private readonly seen = new Set<string>();
  private skipped = 0;

  constructor(
    private readonly mode: VerifyMode,
    private readonly maxKept = 5000,
  ) {}

  readonly collect = (reply: Reply): void => {
    if (this.mode === 'none') return;
    const id = `${reply.key.path}\n${reply.key.accept}`;
    if (this.mode === 'unique' && this.seen.has(id)) return;
    this.seen.add(id);
    if (this.kept.length >= this.maxKept) {
      this.skipped++;
      return;
    }
    this.kept.push(reply);
  };

  async verify(): Promise<VerifyResult> {
    const failures: VerifyFailure[] = [];
    for (const reply of this.kept) {
      const problem = await checkReply(reply);
      if (problem) failures.push({ path: reply.key.path, accept: reply.key.accept, problem });
    }
    const checked = this.kept.length;
    this.kept.length = 0;
    return { checked, skipped: this.skipped, failures };
  }
}

/** Why a 200 reply is not the image asked for, or undefined when it is. */
export async function checkReply(reply: Reply): Promise<string | undefined> {
  let meta: Metadata;
  try {
    meta = await sharp(reply.body).metadata();
  } catch (err) {
    return `does not decode: ${(err as Error).message}`;
  }
  const { width, height, ext } = reply.key;
  if (meta.width !== width || meta.height !== height)
    return `size ${meta.width}x${meta.height}, asked ${width}x${height}`;
  const allowed = FORMATS_BY_EXT[ext] ?? [];
  if (!meta.format || !allowed.includes(meta.format)) return `format ${meta.format}, asked .${ext}`;
  const declared = CONTENT_TYPE_FORMAT[(reply.contentType ?? '').split(';')[0]?.trim() ?? ''];
  if (declared !== meta.format) return `Content-Type ${reply.contentType} but the bytes are ${meta.format}`;
  return undefined;
}
