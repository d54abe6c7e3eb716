// Paced invalidation (issue 21, point 4): the render budget from the Generator's capacity, waves
// sized to it from the diff's changed URLs and a hit rate, pauses as computed, and a run that
// stops part way and is resumed from its kept cursor without sending any wave twice. The pauses
// go through an injected sleep that records them: no wall clock is read.
import t from 'tap';
import type { InvalidationResult, TagInvalidator } from '../../src/invalidation/invalidator.js';
import {
  estimateItems,
  planWaves,
  renderBudget,
  resumeWaves,
  startWaves,
  waveLine,
  wavesFile,
  type WaveProgress,
  type WaveStore,
} from '../../src/invalidation/waves.js';

const ID = '20261207T230000.000Z-0123abcd';
/** 0.5 of 4 slots at 1,000 ms a render: 2 renders/s, 10 per 5 s wave. */
const PACING = { maxInFlight: 4, msPerRender: 1000, maxRenderShare: 0.5, waveSeconds: 5 };

const urls = (n: number, type = 'boxshot', title = (i: number) => String(80000000 + i)) =>
  Array.from({ length: n }, (_, i) => `/v1/artwork/${type}/${title(i)}/342x513.webp`);
const twin = (p: string) => `${p}?v=3`;

function memoryStore(): WaveStore & { files: Map<string, string> } {
  const files = new Map<string, string>();
  return {
    files,
    async putHistory(name, body) {
      files.set(name, body);
    },
    async getHistory(name) {
      return files.get(name);
    },
  };
}

/** Records every tag and path it is sent; `failOn(call)` makes that call (1-based) reject. */
function recording(failOn: (call: number) => boolean = () => false) {
  const sent: Array<{ tags: string[]; paths: string[] }> = [];
  let calls = 0;
  const answer = (tags: readonly string[], paths: readonly string[]): InvalidationResult => {
    if (failOn(++calls)) throw new Error(`CDN down on call ${calls}`);
    sent.push({ tags: [...tags], paths: [...paths] });
    return { backend: 'recording', paths: paths.length, tags: tags.length, requests: 1, ids: [`i${calls}`] };
  };
  const invalidator: TagInvalidator = {
    name: 'recording',
    supportsTags: true,
    invalidate: async (paths) => answer([], paths),
    invalidateTagged: async (plan) => answer(plan.tags, plan.paths),
  };
  return { invalidator, sent };
}

function recordingSleep() {
  const pauses: number[] = [];
  return { pauses, sleep: async (ms: number) => void pauses.push(ms) };
}

t.test('the budget: share × slots × 1000 / ms per render, and the wave it makes', async (t) => {
  const b = renderBudget(PACING);
  t.same([b.rendersPerSecond, b.rendersPerWave, b.hitRate], [2, 10, 1]);
  t.match(b.basis, /0\.5 of 4 Generator slots at 1000 ms per render: 2\.00 renders\/s, 10\.0 per 5 s wave/);
  t.equal(renderBudget({ ...PACING, waveSeconds: undefined }).waveSeconds, 10, 'default wave: 10 s');
  for (const bad of [
    { maxRenderShare: 0 },
    { maxRenderShare: 1.5 },
    { maxInFlight: 0 },
    { msPerRender: 0 },
    { hitRate: 0 },
    { hitRate: Number.NaN },
  ])
    t.throws(() => renderBudget({ ...PACING, ...bad }), RangeError, JSON.stringify(bad));
});

t.test('N paths, a budget of 10 renders a wave: ceil(N/10) waves, each paused as its renders say', async (t) => {
  const paths = urls(25);
  const { invalidator, sent } = recording();
  const { pauses, sleep } = recordingSleep();
  const progress: WaveProgress[] = [];
  const store = memoryStore();
  const result = await startWaves(
    {
      id: ID,
      reason: 'rules publish x',
      items: { kind: 'paths', tags: [], paths },
      estimate: { changedPaths: paths },
      pacing: PACING,
    },
    { invalidator, store, sleep, onProgress: (p) => progress.push(p) },
  );
  t.same(
    sent.map((w) => w.paths.length),
    [10, 10, 5],
    'ceil(25 / 10) = 3 waves',
  );
  t.same(pauses, [5000, 5000], '10 renders at 2/s after each full wave; nothing after the last');
  t.same(sent.flatMap((w) => w.paths).sort(), [...paths].sort(), 'every path once');
  t.same(
    progress.map((p) => [p.wave, p.of, p.renders, p.nextInMs]),
    [
      [1, 3, 10, 5000],
      [2, 3, 10, 5000],
      [3, 3, 5, 0],
    ],
  );
  t.equal(waveLine(progress[0]!), 'invalidation wave 1/3: 0 tags, 10 paths (≈ 10 live renders); next in 5.0 s');
  t.match(result, { paths: 25, requests: 3, waves: { count: 3, sent: 3, renders: 25 } });
  t.match(JSON.parse(store.files.get(wavesFile(ID))!), { next: 3, waves: { length: 3 } }, 'the cursor kept');
});

t.test('a URL and its v twin are one render; a hit rate of 0.5 halves the renders of a path', async (t) => {
  const changed = urls(25);
  const paths = changed.flatMap((p) => [p, twin(p)]);
  const budget = renderBudget(PACING);
  const waves = planWaves(estimateItems({ kind: 'paths', tags: [], paths }, { changedPaths: changed }, budget), budget);
  t.same(
    waves.map((w) => [w.paths.length, w.renders]),
    [
      [20, 10],
      [20, 10],
      [10, 5],
    ],
  );
  const half = renderBudget({ ...PACING, hitRate: 0.5 });
  const halved = planWaves(estimateItems({ kind: 'paths', tags: [], paths }, { changedPaths: changed }, half), half);
  t.same(
    halved.map((w) => [w.paths.length, w.renders, w.pauseMs]),
    [
      [40, 10, 5000],
      [10, 2.5, 1250],
    ],
  );
});

t.test('what the prewarm stored costs no render: it goes in the first wave, unpaced', async (t) => {
  const changed = urls(25);
  const budget = renderBudget(PACING);
  const livePaths = new Set(changed.slice(5));
  const waves = planWaves(
    estimateItems({ kind: 'paths', tags: [], paths: changed }, { changedPaths: changed, livePaths }, budget),
    budget,
  );
  t.same(
    waves.map((w) => [w.paths.length, w.renders]),
    [
      [15, 10],
      [10, 10],
    ],
  );
  t.ok(
    changed.slice(0, 5).every((p) => waves[0]!.paths.includes(p)),
    'the five stored URLs in the first wave',
  );
  const share = planWaves(
    estimateItems({ kind: 'paths', tags: [], paths: changed }, { changedPaths: changed, liveShare: 0 }, budget),
    budget,
  );
  t.same(
    share.map((w) => [w.paths.length, w.renders, w.pauseMs]),
    [[25, 0, 0]],
    'all prewarmed: one wave',
  );
});

t.test('a type tag heavier than a wave is split by title, the type tag itself in the last wave', async (t) => {
  const changedPaths = ['A', 'B', 'C'].flatMap((title) =>
    Array.from({ length: 10 }, (_, i) => `/v1/artwork/boxshot/${title}/${100 + i * 10}x150.webp`),
  );
  t.equal(changedPaths.length, 30);
  const budget = renderBudget(PACING);
  const items = estimateItems({ kind: 'tags', tags: ['type:boxshot'], paths: [] }, { changedPaths }, budget);
  t.same(items, [
    { tag: 'tt:boxshot/A', renders: 10 },
    { tag: 'tt:boxshot/B', renders: 10 },
    { tag: 'tt:boxshot/C', renders: 10 },
    { tag: 'type:boxshot', renders: 0, last: true },
  ]);
  t.same(
    planWaves(items, budget).map((w) => w.tags),
    [['tt:boxshot/A'], ['tt:boxshot/B'], ['tt:boxshot/C', 'type:boxshot']],
  );
  // Within a wave: not split.
  const light = estimateItems(
    { kind: 'tags', tags: ['type:boxshot'], paths: [] },
    { changedPaths: changedPaths.slice(0, 8) },
    budget,
  );
  t.same(light, [{ tag: 'type:boxshot', renders: 8 }]);
  // A look tag: the changed URLs no other item names (a tt: tag claims its title's).
  const looks = estimateItems(
    { kind: 'tags', tags: ['look:0123456789abcdef', 'tt:boxshot/A'], paths: [] },
    { changedPaths: changedPaths.slice(0, 15) },
    budget,
  );
  t.same(looks, [
    { tag: 'tt:boxshot/A', renders: 10 },
    { tag: 'look:0123456789abcdef', renders: 5 },
  ]);
});

t.test('interrupted during a pause: resumed at the next wave, nothing sent twice', async (t) => {
  const paths = urls(25);
  const store = memoryStore();
  const first = recording();
  const controller = new AbortController();
  // Ctrl-C during the pause after wave 1.
  const interrupt = async () => {
    controller.abort();
    throw controller.signal.reason;
  };
  const plan = {
    id: ID,
    reason: 'rules publish x',
    items: { kind: 'paths' as const, tags: [], paths },
    estimate: { changedPaths: paths },
    pacing: PACING,
  };
  await t.rejects(
    startWaves(plan, { invalidator: first.invalidator, store, sleep: interrupt, signal: controller.signal }),
    { name: 'AbortError' },
  );
  t.equal(first.sent.length, 1, 'one wave sent before the interruption');
  t.equal((JSON.parse(store.files.get(wavesFile(ID))!) as { next: number }).next, 1, 'the cursor says wave 2 is next');

  const second = recording();
  const { pauses, sleep } = recordingSleep();
  const resumed = await resumeWaves(ID, { invalidator: second.invalidator, store, sleep });
  t.same(
    second.sent.map((w) => w.paths.length),
    [10, 5],
    'waves 2 and 3 only',
  );
  t.same(pauses, [5000]);
  const all = [...first.sent, ...second.sent].flatMap((w) => w.paths);
  t.equal(all.length, 25, 'no path sent twice');
  t.same([...all].sort(), [...paths].sort());
  t.match(resumed, { waves: { count: 3, sent: 3 }, requests: 3, ids: ['i1', 'i1', 'i2'] });

  const again = recording();
  await resumeWaves(ID, { invalidator: again.invalidator, store, sleep });
  t.equal(again.sent.length, 0, 'a finished plan sends nothing on another resume');
});

t.test('a CDN failure mid-run: that wave is not counted sent, and the resume sends it', async (t) => {
  const paths = urls(25);
  const store = memoryStore();
  const failing = recording((call) => call === 2);
  const { sleep } = recordingSleep();
  const plan = {
    id: ID,
    reason: 'r',
    items: { kind: 'paths' as const, tags: [], paths },
    estimate: { changedPaths: paths },
    pacing: PACING,
  };
  await t.rejects(startWaves(plan, { invalidator: failing.invalidator, store, sleep }), /CDN down on call 2/);
  const retry = recording();
  await resumeWaves(ID, { invalidator: retry.invalidator, store, sleep });
  t.same(
    retry.sent.map((w) => w.paths.length),
    [10, 5],
  );
  t.equal([...failing.sent, ...retry.sent].flatMap((w) => w.paths).length, 25);
});

t.test('a tag plan needs a backend that purges by tag; an unknown id is a clear error', async (t) => {
  const store = memoryStore();
  const { invalidator: tagged } = recording();
  const pathOnly = {
    name: 'paths-only',
    invalidate: (paths: readonly string[], reason: string) => tagged.invalidate(paths, reason),
  };
  const plan = {
    id: ID,
    reason: 'r',
    items: { kind: 'tags' as const, tags: ['type:logo'], paths: [] },
    estimate: { changedPaths: [] },
    pacing: PACING,
  };
  await t.rejects(startWaves(plan, { invalidator: pathOnly, store }), RangeError);
  await t.rejects(
    resumeWaves('20261207T230000.000Z-ffffffff', { invalidator: pathOnly, store }),
    /no paced invalidation/,
  );
});
