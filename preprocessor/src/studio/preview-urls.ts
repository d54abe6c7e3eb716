import { Type } from '@sinclair/typebox';
import { FORMATS, MAX_OUTPUT_DIMENSION, MarqueeError, readInteger, type Format } from '@marquee/shared';
import { signUrl } from '../signing.js';
import { PREVIEW_TTL_SECONDS } from './limits.js';
import type { PreviewTarget } from './resolve-preview.js';

/** A tile of artwork as the artwork route resolves it, under the rules in force or a draft's. */
export const RENDER_PATH = '/studio/render';
/** A heat map of the difference between the rules in force and a draft, for one artwork URL. */
export const DIFF_PATH = '/studio/diff';

/** A draft at one revision: renders of it are signed for that text and no other. */
export interface DraftRef {
  id: string;
  rev: string;
}

/**
 * The query of both signed routes. The signature covers it, so it holds only what the studio
 * signed; the patterns still bound what reaches a lookup before the signature is checked.
 */
export const PreviewQuery = Type.Object({
  type: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }),
  title: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
  src: Type.Optional(Type.String({ pattern: '^staging/[0-9a-f]{32}\\.[a-z]{3,4}$' })),
  locale: Type.Optional(Type.String({ maxLength: 35 })),
  w: Type.String({ pattern: '^[0-9]{1,5}$' }),
  h: Type.String({ pattern: '^[0-9]{1,5}$' }),
  dpr: Type.String({ pattern: '^[1-4]$' }),
  fmt: Type.Union(FORMATS.map((f) => Type.Literal(f))),
  draft: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16}$' })),
  rev: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16}$' })),
  exp: Type.Optional(Type.String()),
  sig: Type.Optional(Type.String()),
});

export interface PreviewParams {
  type: string;
  title?: string | undefined;
  src?: string | undefined;
  locale?: string | undefined;
  w: string;
  h: string;
  dpr: string;
  fmt: Format;
  draft?: string | undefined;
  rev?: string | undefined;
}

/** A signed, expiring URL of `path` for one target, under the draft when one is given. */
export function signPreview(
  path: typeof RENDER_PATH | typeof DIFF_PATH,
  t: PreviewTarget,
  draft: DraftRef | undefined,
  key: string,
  now: number,
): string {
  const params: Record<string, string | number> = { type: t.type };
  if (t.titleId !== undefined) params.title = t.titleId;
  if (t.src !== undefined) params.src = t.src;
  if (t.locale !== undefined) params.locale = t.locale;
  Object.assign(params, { w: t.width, h: t.height, dpr: t.dpr, fmt: t.format });
  if (draft) Object.assign(params, { draft: draft.id, rev: draft.rev });
  return signUrl(path, params, key, PREVIEW_TTL_SECONDS, now);
}

function integer(name: string, text: string, max: number): number {
  const n = readInteger(text, 1, max);
  if (n === undefined) throw new MarqueeError('INVALID_PARAMETER', `${name}: expected an integer 1..${max}`);
  return n;
}

/** The target and draft a signed query names. */
export function readPreview(q: PreviewParams): { target: PreviewTarget; draft: DraftRef | undefined } {
  if ((q.draft === undefined) !== (q.rev === undefined)) {
    throw new MarqueeError('INVALID_PARAMETER', 'draft and rev: give both or neither');
  }
  return {
    target: {
      type: q.type,
      titleId: q.title,
      src: q.src,
      locale: q.locale,
      width: integer('w', q.w, MAX_OUTPUT_DIMENSION),
      height: integer('h', q.h, MAX_OUTPUT_DIMENSION),
      dpr: integer('dpr', q.dpr, 4),
      format: q.fmt,
    },
    draft: q.draft !== undefined && q.rev !== undefined ? { id: q.draft, rev: q.rev } : undefined,
  };
}
