/** The studio API, as the page calls it. Its wire types are the contract's (`shared/src/studio.ts`). */
import type {
  CompareReply,
  CompareRequest,
  Draft,
  DraftList,
  Fit,
  Format,
  Gravity,
  Impact,
  PreviewReply,
  PreviewRequest,
  PublishDraft,
  PublishReply,
  RenderRequest,
  SignReply,
  SignRequest,
  SignedRender,
  StagedUpload,
  StudioCatalog,
} from '@marquee/shared';

/** The formats and fits the page offers, in its display order. */
export const FORMATS = ['jpeg', 'webp', 'avif', 'png'] as const satisfies readonly Format[];
export const FITS = ['cover', 'contain', 'inside', 'fill'] as const satisfies readonly Fit[];
/** Each lists every value the contract knows: one added there fails to compile here until the page offers it. */
type Assert<T extends true> = T;
type _EveryFormat = Assert<Exclude<Format, (typeof FORMATS)[number]> extends never ? true : false>;
type _EveryFit = Assert<Exclude<Fit, (typeof FITS)[number]> extends never ? true : false>;

/** Badge positions the rules know (shared `GRAVITIES`), for the draft form. */
export const GRAVITIES = [
  'northwest',
  'north',
  'northeast',
  'west',
  'centre',
  'east',
  'southwest',
  'south',
  'southeast',
] as const satisfies readonly Gravity[];
type _EveryGravity = Assert<Exclude<Gravity, (typeof GRAVITIES)[number]> extends never ? true : false>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The problem document's other fields (a refused draft's `line`, `column`, `field`). */
    readonly problem: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The problem+json `detail`, or the status line. */
async function failure(res: Response): Promise<ApiError> {
  let detail = `${res.status} ${res.statusText}`;
  let problem: Record<string, unknown> = {};
  try {
    problem = (await res.json()) as Record<string, unknown>;
    if (typeof problem.detail === 'string') detail = problem.detail;
  } catch {
    // not problem+json
  }
  if (res.status === 401) location.assign('/studio');
  return new ApiError(res.status, detail, problem);
}

function send(method: string, url: string, body?: unknown): Promise<Response> {
  return fetch(url, {
    method,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function getCatalog(): Promise<StudioCatalog> {
  return json(await fetch('/studio/api/catalog', { credentials: 'same-origin' }));
}

/** Signed `/v1/render` URLs; with `type`, each checked against that type's current rules. */
export async function sign(renders: RenderRequest[], type?: string): Promise<SignedRender[]> {
  const body: SignRequest = type === undefined ? { renders } : { renders, type };
  return (await json<SignReply>(await send('POST', '/studio/api/sign', body))).renders;
}

/** Artwork as the artwork route resolves it, under the rules in force or a draft's. */
export async function previews(request: PreviewRequest): Promise<PreviewReply> {
  return json(await send('POST', '/studio/api/previews', request));
}

export async function compare(request: CompareRequest): Promise<CompareReply> {
  return json(await send('POST', '/studio/api/compare', request));
}

export async function openDraft(): Promise<Draft> {
  return json(await send('POST', '/studio/api/drafts', {}));
}

export async function loadDraft(id: string): Promise<Draft> {
  return json(await send('GET', `/studio/api/drafts/${encodeURIComponent(id)}`));
}

/** Throws an ApiError carrying the loader's `line`, `column` and `field` when the text is refused. */
export async function saveDraft(id: string, yaml: string): Promise<Draft> {
  return json(await send('PUT', `/studio/api/drafts/${encodeURIComponent(id)}`, { yaml }));
}

export async function listDrafts(): Promise<DraftList> {
  return json(await send('GET', '/studio/api/drafts'));
}

/** Writes the draft's revision `rev` where the Preprocessors read their rules. */
export async function publishDraft(id: string, body: PublishDraft): Promise<PublishReply> {
  return json(await send('POST', `/studio/api/drafts/${encodeURIComponent(id)}/publish`, body));
}

export async function impactOf(id: string, rev: string): Promise<Impact> {
  return json(await send('GET', `/studio/api/drafts/${encodeURIComponent(id)}/impact?rev=${rev}`));
}

export async function upload(file: File): Promise<StagedUpload> {
  const form = new FormData();
  form.append('file', file, file.name);
  return json(await fetch('/studio/api/upload', { method: 'POST', credentials: 'same-origin', body: form }));
}

export async function signOut(): Promise<void> {
  await fetch('/studio/session', { method: 'DELETE', credentials: 'same-origin' });
  location.assign('/studio');
}

export interface Rendered {
  blob: Blob;
  bytes: number;
  contentType: string;
  /** The reply's headers: a tile's spec key, a heat map's share of changed pixels. */
  headers: Headers;
}

/** Shed renders (503/429 with Retry-After) are tried again this many times: a busy studio is not a broken one. */
const SHED_RETRIES = 6;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}

/** One render through its signed URL (`/v1/render`, `/studio/render`, `/studio/diff`). */
export async function fetchRender(url: string, signal: AbortSignal): Promise<Rendered> {
  let res = await fetch(url, { signal, credentials: 'omit' });
  for (let attempt = 0; attempt < SHED_RETRIES && (res.status === 503 || res.status === 429); attempt++) {
    const after = Number(res.headers.get('retry-after'));
    await sleep((Number.isFinite(after) && after > 0 ? after : 1) * 1000 * (1 + Math.random() / 2), signal);
    res = await fetch(url, { signal, credentials: 'omit' });
  }
  if (!res.ok) throw await failure(res);
  const blob = await res.blob();
  const length = Number(res.headers.get('content-length'));
  return {
    blob,
    bytes: Number.isFinite(length) && length > 0 ? length : blob.size,
    contentType: res.headers.get('content-type') ?? blob.type,
    headers: res.headers,
  };
}
