import { setTimeout as sleepFor } from 'node:timers/promises';
import { plural } from '@marquee/shared';
import { supportsTags, type InvalidationResult, type Invalidator } from './invalidator.js';
import { isWildcard } from './paths.js';

/**
 * Invalidation paced to Generator capacity (issue 21, point 4). What a publish did not prewarm
 * renders live when the CDN asks for it again; invalidating a catalog's worth at once sends every
 * such miss to the Generator in the same minute. So the invalidation goes in waves, each sized to
 * cause at most `rendersPerWave` renders, the next sent once the renders the last one causes fit
 * the stated share of capacity:
 *
 *   renders/s budget = maxRenderShare × maxInFlight × 1000 / msPerRender
 *   renders of an item = its changed URLs the prewarm did not store × hitRate
 *   pause after a wave = its renders / (renders/s budget)
 *
 * `hitRate` is the share of an invalidated URL's cached objects that clients ask for again soon
 * (each such request is a live render): 1, the default, assumes every one is, an upper bound.
 *
 * Resumable: the plan and a cursor (the next wave to send) are kept beside the publish's history
 * entry (`<id>.waves.json`), written after each wave the CDN acknowledged. An interrupted run is
 * continued explicitly by `resumeWaves(id)` (the rules CLI's `--resume ID`), which sends the waves
 * from the cursor on. A crash between the CDN's answer and the cursor's write sends that one wave
 * again on resume (at least once, never skipped): CloudFront answers a repeated batch with the
 * invalidation it already made (same CallerReference); Varnish purges again, which costs a store
 * read per object, not a render.
 */

/** How much of the Generator the invalidation's live renders may take. */
export interface WavePacing {
  /** Generator invocations in flight at once (the Preprocessor's `generator.maxInFlight`). */
  maxInFlight: number;
  /** Billed ms per render: measured (`--ms-per-image`) or the diff's stated default. */
  msPerRender: number;
  /** Share of that capacity for the renders the waves cause, in (0, 1]. */
  maxRenderShare: number;
  /** Share of invalidated, not prewarmed URLs requested again soon, in (0, 1]. Default 1. */
  hitRate?: number;
  /** Seconds of budget one full wave spends. Default 10. */
  waveSeconds?: number;
}

export interface RenderBudget {
  rendersPerSecond: number;
  rendersPerWave: number;
  waveSeconds: number;
  hitRate: number;
  /** The figures, in words, for the publish report. */
  basis: string;
}

/** A full wave's seconds: short enough to show progress, long enough that a wave is not one URL. */
const DEFAULT_WAVE_SECONDS = 10;

export function renderBudget(pacing: WavePacing): RenderBudget {
  const { maxInFlight, msPerRender, maxRenderShare } = pacing;
  const hitRate = pacing.hitRate ?? 1;
  const waveSeconds = pacing.waveSeconds ?? DEFAULT_WAVE_SECONDS;
  const check = (name: string, value: number, ok: boolean, expected: string) => {
    if (!Number.isFinite(value) || !ok) throw new RangeError(`${name}: expected ${expected}, got ${value}`);
  };
  check('maxInFlight', maxInFlight, Number.isInteger(maxInFlight) && maxInFlight >= 1, 'an integer ≥ 1');
  check('msPerRender', msPerRender, msPerRender > 0, 'a number of ms > 0');
  check('maxRenderShare', maxRenderShare, maxRenderShare > 0 && maxRenderShare <= 1, 'a share in (0, 1]');
  check('hitRate', hitRate, hitRate > 0 && hitRate <= 1, 'a share in (0, 1]');
  check('waveSeconds', waveSeconds, waveSeconds > 0, 'seconds > 0');
  const rendersPerSecond = (maxRenderShare * maxInFlight * 1000) / msPerRender;
  const rendersPerWave = rendersPerSecond * waveSeconds;
  const basis =
    `${maxRenderShare} of ${maxInFlight} Generator ${plural(maxInFlight, 'slot')} at ${msPerRender} ms per render: ` +
    `${rendersPerSecond.toFixed(2)} renders/s, ${rendersPerWave.toFixed(1)} per ${waveSeconds} s wave, ` +
    `assuming ${hitRate} of the invalidated URLs not prewarmed are requested again`;
  return { rendersPerSecond, rendersPerWave, waveSeconds, hitRate, basis };
}

/** What a publish invalidates: the tag plan (tags and their fallback paths) or the path plan. */
export interface InvalidationItems {
  kind: 'tags' | 'paths';
  tags: readonly string[];
  paths: readonly string[];
}

/** What the estimate is told of the changed URLs. */
export interface RenderEstimateInput {
  /** The diff's changed URLs (canonical paths, no `v`). */
  changedPaths: readonly string[];
  /**
   * The changed URLs that will render live (not stored by the prewarm), when known; else
   * `liveShare` of each item's changed URLs (the prewarm's `liveUrls / urls`), else all of them.
   */
  livePaths?: ReadonlySet<string>;
  liveShare?: number;
}

/**
 * One tag, or paths that go together (a URL and its `v` twin, one image: whichever the CDN asks
 * for first renders it), with the renders their refetch is estimated to cause.
 */
export interface WaveItem {
  tag?: string;
  paths?: string[];
  renders: number;
  /** Sent in the last wave (a type-wide item after its split into titles). */
  last?: true;
}

const ARTWORK = '/v1/artwork/';

/** The canonical URL an invalidation path names: the path without its `v` twin's query parameter. */
function canonical(p: string): string {
  const [file = '', query] = p.split('?', 2);
  if (query === undefined) return p;
  const rest = new URLSearchParams(query);
  rest.delete('v');
  const kept = rest.toString();
  return kept === '' ? file : `${file}?${kept}`;
}

/** The URL prefix a tag names, or undefined for a look (its URLs are not readable from the hash). */
function tagPrefix(tag: string): ((url: string) => boolean) | undefined {
  if (tag.startsWith('type:')) return (url) => url.startsWith(`${ARTWORK}${tag.slice(5)}/`);
  if (tag.startsWith('tt:')) return (url) => url.startsWith(`${ARTWORK}${tag.slice(3)}/`);
  if (tag.startsWith('title:')) return (url) => url.split('/')[4] === tag.slice(6);
  return undefined;
}

/**
 * The items with their estimated renders. Each changed URL is counted once, for the first item
 * naming it (exact paths, then wildcards and tags that name URLs by prefix); a look tag's URLs are
 * not readable from its hash, so each look tag is counted for every changed URL no other item
 * names: exact with one look tag, an upper bound with several (the waves are then slower, never
 * heavier). A type-wide item (`type:T`, `/v1/artwork/T/*`) heavier than a wave is split into one
 * item per title (`tt:T/<title>`, `/v1/artwork/T/<title>/*`, the same objects), the type-wide
 * item kept last, with no renders of its own, for objects of titles no changed URL names (URLs
 * only removed): what it purges again was refetched from the store since, not rendered.
 */
export function estimateItems(
  items: InvalidationItems,
  input: RenderEstimateInput,
  budget: Pick<RenderBudget, 'hitRate' | 'rendersPerWave'>,
): WaveItem[] {
  const live = (url: string) => (input.livePaths ? (input.livePaths.has(url) ? 1 : 0) : (input.liveShare ?? 1));
  const renders = (urls: readonly string[]) => urls.reduce((n, url) => n + live(url), 0) * budget.hitRate;
  const unclaimed = new Set(input.changedPaths);
  const claim = (match: (url: string) => boolean): string[] => {
    const urls = [...unclaimed].filter(match);
    for (const url of urls) unclaimed.delete(url);
    return urls;
  };
  const exact = items.paths.filter((p) => !isWildcard(p));
  const wildcards = items.paths.filter(isWildcard);
  const out: WaveItem[] = [];
  // Twins (a URL and its `?v=`) share one image, and one wave: apart, the earlier would render it.
  const twins = new Map<string, string[]>();
  for (const path of exact) twins.set(canonical(path), [...(twins.get(canonical(path)) ?? []), path]);
  for (const [url, paths] of twins) out.push({ paths, renders: renders(claim((u) => u === url)) });
  const prefixed: Array<{ item: WaveItem; urls: string[]; typeWide?: string }> = [];
  for (const path of wildcards) {
    const prefix = path.slice(0, -1);
    const urls = claim((url) => url.startsWith(prefix));
    const type = /^\/v1\/artwork\/([^/]+)\/$/.exec(prefix)?.[1];
    prefixed.push({ item: { paths: [path], renders: renders(urls) }, urls, ...(type ? { typeWide: type } : {}) });
  }
  const looks: string[] = [];
  for (const tag of items.tags) {
    const match = tagPrefix(tag);
    if (match === undefined) {
      looks.push(tag);
      continue;
    }
    const urls = claim(match);
    const type = tag.startsWith('type:') ? tag.slice(5) : undefined;
    prefixed.push({ item: { tag, renders: renders(urls) }, urls, ...(type ? { typeWide: type } : {}) });
  }
  const last: WaveItem[] = [];
  for (const { item, urls, typeWide } of prefixed) {
    if (typeWide === undefined || item.renders <= budget.rendersPerWave) {
      out.push(item);
      continue;
    }
    const byTitle = new Map<string, string[]>();
    for (const url of urls) {
      const title = url.split('/')[4] ?? '';
      byTitle.set(title, [...(byTitle.get(title) ?? []), url]);
    }
    for (const [title, titleUrls] of [...byTitle].sort(([a], [b]) => a.localeCompare(b)))
      out.push(
        item.tag !== undefined
          ? { tag: `tt:${typeWide}/${title}`, renders: renders(titleUrls) }
          : { paths: [`${ARTWORK}${typeWide}/${title}/*`], renders: renders(titleUrls) },
      );
    last.push({ ...item, renders: 0, last: true });
  }
  const rest = [...unclaimed];
  for (const tag of looks) out.push({ tag, renders: renders(rest) });
  return [...out, ...last];
}

/** One wave: its tags and paths, the renders it is estimated to cause, and the pause after it. */
export interface Wave {
  tags: string[];
  paths: string[];
  renders: number;
  pauseMs: number;
}

/**
 * The items in waves of at most `rendersPerWave` estimated renders (an item heavier than that
 * alone in its wave), the ones that cause none (prewarmed, removed, twins) in the first; items
 * marked last (the type-wide ones after a split) stay last. Each wave is followed by a pause of
 * its renders at the budget's rate, so the average stays within it.
 */
export function planWaves(
  items: readonly WaveItem[],
  budget: Pick<RenderBudget, 'rendersPerSecond' | 'rendersPerWave'>,
): Wave[] {
  const free = items.filter((i) => i.renders === 0 && i.last !== true);
  const costly = items.filter((i) => i.renders > 0 && i.last !== true);
  const final = items.filter((i) => i.last === true);
  const waves: Wave[] = [];
  let wave: Wave = { tags: [], paths: [], renders: 0, pauseMs: 0 };
  const add = (item: WaveItem) => {
    if (item.tag !== undefined) wave.tags.push(item.tag);
    if (item.paths !== undefined) wave.paths.push(...item.paths);
    wave.renders += item.renders;
  };
  for (const item of free) add(item);
  for (const item of costly) {
    const empty = wave.tags.length === 0 && wave.paths.length === 0;
    if (!empty && wave.renders > 0 && wave.renders + item.renders > budget.rendersPerWave + 1e-9) {
      waves.push(wave);
      wave = { tags: [], paths: [], renders: 0, pauseMs: 0 };
    }
    add(item);
  }
  for (const item of final) add(item);
  if (wave.tags.length > 0 || wave.paths.length > 0) waves.push(wave);
  for (const w of waves) w.pauseMs = Math.ceil((w.renders / budget.rendersPerSecond) * 1000);
  return waves;
}

/** What is kept beside the history entry: the plan, and how far it went. */
export interface WaveState {
  v: 1;
  id: string;
  reason: string;
  kind: 'tags' | 'paths';
  budget: RenderBudget;
  waves: Wave[];
  /** The next wave to send (waves before it were acknowledged by the CDN). */
  next: number;
  /** Per wave sent: what the CDN answered. */
  results: InvalidationResult[];
}

/** Where the state is kept: the publish target's history (a RulesTarget fits). */
export interface WaveStore {
  putHistory(name: string, body: string, contentType: string): Promise<void>;
  getHistory(name: string): Promise<string | undefined>;
}

/** One progress line's figures. */
export interface WaveProgress {
  wave: number;
  of: number;
  tags: number;
  paths: number;
  renders: number;
  /** The pause before the next wave; 0 after the last. */
  nextInMs: number;
}

export interface RunWavesOptions {
  invalidator: Invalidator;
  store: WaveStore;
  onProgress?: (progress: WaveProgress) => void;
  /** The pause between waves (a test passes one that records and returns at once). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Interrupts between waves (Ctrl-C): the state keeps the cursor, `resumeWaves` goes on. */
  signal?: AbortSignal;
}

/** What the waves did, summed. */
export interface WavesResult extends InvalidationResult {
  waves: { count: number; sent: number; renders: number; basis: string };
}

export const wavesFile = (id: string): string => `${id}.waves.json`;

/** "wave 3/12: 2 tags, 40 paths (≈ 40 renders); next in 10.0 s". */
export function waveLine(p: WaveProgress): string {
  const next = p.nextInMs > 0 ? `; next in ${(p.nextInMs / 1000).toFixed(1)} s` : '';
  return (
    `invalidation wave ${p.wave}/${p.of}: ${p.tags} ${plural(p.tags, 'tag')}, ${p.paths} ${plural(p.paths, 'path')} ` +
    `(≈ ${Math.ceil(p.renders)} live ${plural(Math.ceil(p.renders), 'render')})${next}`
  );
}

/** Plans the waves of publish `id`, keeps the plan beside its history entry, and sends them. */
export async function startWaves(
  plan: { id: string; reason: string; items: InvalidationItems; estimate: RenderEstimateInput; pacing: WavePacing },
  options: RunWavesOptions,
): Promise<WavesResult> {
  const budget = renderBudget(plan.pacing);
  const kind = plan.items.kind === 'tags' && supportsTags(options.invalidator) ? 'tags' : 'paths';
  if (kind !== plan.items.kind) throw new RangeError(`${options.invalidator.name} cannot invalidate by tag`);
  const waves = planWaves(estimateItems(plan.items, plan.estimate, budget), budget);
  const state: WaveState = { v: 1, id: plan.id, reason: plan.reason, kind, budget, waves, next: 0, results: [] };
  await save(options.store, state);
  return runWaves(state, options);
}

/** Sends the waves of publish `id` from where its last run stopped. */
export async function resumeWaves(id: string, options: RunWavesOptions): Promise<WavesResult> {
  const text = await options.store.getHistory(wavesFile(id));
  if (text === undefined) throw new RangeError(`no paced invalidation kept for publish ${id}`);
  const state = JSON.parse(text) as WaveState;
  if (state.v !== 1 || state.id !== id || !Array.isArray(state.waves) || !Number.isInteger(state.next))
    throw new RangeError(`${wavesFile(id)} is not a wave plan`);
  if (state.kind === 'tags' && !supportsTags(options.invalidator))
    throw new RangeError(`publish ${id} invalidates by tag; ${options.invalidator.name} cannot`);
  return runWaves(state, options);
}

async function runWaves(state: WaveState, options: RunWavesOptions): Promise<WavesResult> {
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, { signal }));
  for (let i = state.next; i < state.waves.length; i++) {
    options.signal?.throwIfAborted();
    const wave = state.waves[i]!;
    const result =
      state.kind === 'tags'
        ? await options.invalidator.invalidateTagged!({ tags: wave.tags, paths: wave.paths }, state.reason)
        : await options.invalidator.invalidate(wave.paths, state.reason);
    state.results.push(result);
    state.next = i + 1;
    await save(options.store, state);
    const last = i === state.waves.length - 1;
    options.onProgress?.({
      wave: i + 1,
      of: state.waves.length,
      tags: wave.tags.length,
      paths: wave.paths.length,
      renders: wave.renders,
      nextInMs: last ? 0 : wave.pauseMs,
    });
    // The renders this wave causes, at the budget's rate, before the next wave adds more.
    if (!last && wave.pauseMs > 0) await sleep(wave.pauseMs, options.signal);
  }
  return summarise(state);
}

function summarise(state: WaveState): WavesResult {
  const { results } = state;
  const purged = results.filter((r) => r.purged !== undefined);
  return {
    backend: results[0]?.backend ?? '',
    paths: results.reduce((n, r) => n + r.paths, 0),
    ...(state.kind === 'tags' ? { tags: results.reduce((n, r) => n + (r.tags ?? 0), 0) } : {}),
    requests: results.reduce((n, r) => n + r.requests, 0),
    ids: results.flatMap((r) => r.ids),
    ...(purged.length > 0 ? { purged: purged.reduce((n, r) => n + (r.purged ?? 0), 0) } : {}),
    waves: {
      count: state.waves.length,
      sent: state.next,
      renders: state.waves.reduce((n, w) => n + w.renders, 0),
      basis: state.budget.basis,
    },
  };
}

async function save(store: WaveStore, state: WaveState): Promise<void> {
  await store.putHistory(wavesFile(state.id), `${JSON.stringify(state, null, 2)}\n`, 'application/json');
}
