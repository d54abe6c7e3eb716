/** The studio API, as the page calls it. Its wire types are the contract's (`shared/src/studio.ts`). */
import type {
  Fit,
  Format,
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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The problem+json `detail`, or the status line. */
async function failure(res: Response): Promise<ApiError> {
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { detail?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    // not problem+json
  }
  if (res.status === 401) location.assign('/studio');
  return new ApiError(res.status, detail);
}

async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

export async function getCatalog(): Promise<StudioCatalog> {
  return json(await fetch('/studio/api/catalog', { credentials: 'same-origin' }));
}

export async function sign(renders: RenderRequest[]): Promise<SignedRender[]> {
  const res = await fetch('/studio/api/sign', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ renders } satisfies SignRequest),
  });
  return (await json<SignReply>(res)).renders;
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
}

/** One render through its signed URL. */
/** Shed renders (503/429 with Retry-After) are tried again this many times: a busy studio is not a broken one. */
const SHED_RETRIES = 4;

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
  };
}
