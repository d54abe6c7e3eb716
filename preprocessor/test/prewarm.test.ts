import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { MarqueeError, derivativeKey, type GeneratorRequest } from '@marquee/shared';
import { createMetrics } from '../src/plugins/metrics.js';
import { changedArtwork } from '../src/prewarm/catalog-diff.js';
import { Prewarmer, type PrewarmProgress } from '../src/prewarm/engine.js';
import { Scheduler, type Priority } from '../src/lambda/scheduler.js';
import { warmSet, type WarmEntry } from '../src/prewarm/warm-set.js';
import { warmSetOfRulesChange } from '../src/prewarm/rules-change.js';
import { parseCatalog } from '../src/rules/index.js';
import { CATALOG_DOC, SOURCES_BUCKET, defaultCatalog, defaultRules, rulesWith } from './rules/fixtures.js';

/** The prewarm engine's bounds and bookkeeping, the warm set the rules' `prewarm` section selects, and the catalog diff. */

const quiet = { info: () => {}, warn: () => {} };

/** A Generator client double: `pending` as the live client counts it, renders that wait for a release. */
/**
 * The Generator client as the prewarmer sees it: the real scheduler in front of a render that
 * takes a millisecond. `hold(n)` takes n live slots (a test releases them), as live misses would.
 */
function fakeGenerator(maxInFlight: number, share: number) {
  const scheduler = new Scheduler({
    slots: maxInFlight,
    maxQueue: { live: 100, studio: 100, prewarm: Number.MAX_SAFE_INTEGER },
    prewarmSlots: share > 0 ? Math.max(1, Math.floor(share * maxInFlight)) : 0,
  });
  const state = {
    scheduler,
    prewarm: 0,
    maxPrewarm: 0,
    rendered: [] as GeneratorRequest[],
    failWith: undefined as ((request: GeneratorRequest, attempt: number) => MarqueeError | undefined) | undefined,
    attempts: new Map<string, number>(),
  };
  const generator = {
    async render(request: GeneratorRequest, priority: Priority = 'live', signal?: AbortSignal) {
      if (priority !== 'prewarm') throw new Error('the prewarmer renders at prewarm priority');
      const release = await scheduler.acquire('prewarm', Number.POSITIVE_INFINITY, signal);
      state.prewarm++;
      state.maxPrewarm = Math.max(state.maxPrewarm, state.prewarm);
      try {
        await sleep(1);
        const attempt = (state.attempts.get(request.output!.s3.key) ?? 0) + 1;
        state.attempts.set(request.output!.s3.key, attempt);
        const err = state.failWith?.(request, attempt);
        if (err) throw err;
        state.rendered.push(request);
        return { body: Buffer.alloc(0), contentType: 'image/webp', width: 1, height: 1, timings: {} as never };
      } finally {
        state.prewarm--;
        release();
      }
    },
  };
  return { generator, state };
}

function entries(n: number): WarmEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i.toString(16).padStart(32, '0'),
    source: { s3: { bucket: SOURCES_BUCKET, key: `titles/${i}/boxshot/en.jpg` } },
    spec: { width: 342, height: 513, fit: 'cover' as const, format: 'webp' as const, quality: 75 },
    version: '1',
    url: `/v1/artwork/boxshot/${i}/342x513.webp`,
    type: 'boxshot',
    titleId: String(i),
    locale: 'en',
    format: 'webp' as const,
  }));
}

function setup(options: { maxInFlight?: number; share?: number; stored?: Set<string>; attempts?: number } = {}) {
  const maxInFlight = options.maxInFlight ?? 8;
  const { generator, state } = fakeGenerator(maxInFlight, options.share ?? 0.25);
  const stored = options.stored ?? new Set<string>();
  const heads: string[] = [];
  const metrics = createMetrics();
  const prewarmer = new Prewarmer({
    generator,
    store: {
      bucket: 'marquee-derivatives',
      has: async (key) => {
        heads.push(key);
        return stored.has(key);
      },
    },
    maxInFlight,
    share: options.share ?? 0.25,
    metrics,
    logger: quiet,
    ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
  });
  const value = async (name: keyof typeof metrics) =>
    (await (metrics[name] as { get(): Promise<{ values: Array<{ value: number }> }> }).get()).values[0]?.value ?? 0;
  return { prewarmer, state, stored, heads, value };
}

t.test('renders only what the store lacks, within the share of the slots, and counts it', async (t) => {
  const all = entries(20);
  const stored = new Set(all.slice(0, 5).map((e) => derivativeKey(e.key, 'webp')));
  const { prewarmer, state, value } = setup({ maxInFlight: 8, share: 0.25, stored });
  t.equal(prewarmer.limit, 2, 'a quarter of 8 slots');
  const progress: PrewarmProgress[] = [];
  const summary = await prewarmer.run([...all, ...all.slice(0, 3)], {
    reason: 'test',
    onProgress: (p) => progress.push(p),
  });
  t.match(summary, { total: 20, rendered: 15, skipped: 5, failed: 0 });
  t.equal(state.rendered.length, 15, 'one render per missing image');
  t.equal(state.maxPrewarm, 2, 'never more than the share at once');
  const missing = new Set(all.slice(5).map((e) => derivativeKey(e.key, 'webp')));
  t.same(
    new Set(state.rendered.map((r) => r.output?.s3.key)),
    missing,
    'each missing image rendered once, named by its derivative key',
  );
  t.ok(
    state.rendered.every((r) => r.store === true && r.output?.s3.bucket === 'marquee-derivatives' && r.version === '1'),
    'with store: true, into the derivatives bucket, with the catalog version',
  );
  t.equal(progress.length, 20, 'progress after each image');
  t.match(progress.at(-1), { done: 20, total: 20, reason: 'test' });
  t.equal(await value('prewarmQueued'), 20);
  t.equal(await value('prewarmRendered'), 15);
  t.equal(await value('prewarmSkipped'), 5);
  t.equal(await value('prewarmFailed'), 0);
  t.equal(await value('prewarmInFlight'), 0);
});

t.test('idempotent and resumable: a second run renders nothing the first stored', async (t) => {
  const { prewarmer, state, stored } = setup();
  const all = entries(6);
  // The first run stops half way (a deploy, a crash): only three objects were written.
  for (const e of all.slice(0, 3)) stored.add(derivativeKey(e.key, 'webp'));
  const first = await prewarmer.run(all, { reason: 'first' });
  t.match(first, { rendered: 3, skipped: 3 });
  for (const r of state.rendered) stored.add(r.output!.s3.key);
  const again = await prewarmer.run(all, { reason: 'again' });
  t.match(again, { total: 6, rendered: 0, skipped: 6, failed: 0 });
  t.equal(state.rendered.length, 3);
});

t.test('prewarm waits for a free slot: live requests keep every slot they hold', async (t) => {
  const { prewarmer, state, heads } = setup({ maxInFlight: 4, share: 0.5 });
  // Every slot busy with live misses.
  const live = await Promise.all([0, 1, 2, 3].map(() => state.scheduler.acquire('live', 1000)));
  const running = prewarmer.run(entries(4), { reason: 'busy' });
  while (heads.length < 2) await sleep(1);
  for (let i = 0; i < 20; i++) await sleep(1);
  t.equal(state.rendered.length + state.prewarm, 0, 'no prewarm render while the slots are taken');
  t.equal(state.scheduler.queued, 2, 'the prewarmer waits, at most its share, without polling');
  live[0]?.(); // one slot frees up
  const summary = await running;
  t.equal(summary.rendered, 4);
  t.equal(state.maxPrewarm, 1, 'only the free slot was taken');
  for (const release of live) release();
});

t.test('load refusals are retried; other failures are final and counted', async (t) => {
  const { prewarmer, state, value } = setup({ attempts: 3 });
  const all = entries(3);
  const [throttled, missing, hopeless] = all.map((e) => derivativeKey(e.key, 'webp'));
  state.failWith = (request, attempt) => {
    const key = request.output!.s3.key;
    if (key === throttled && attempt === 1) return new MarqueeError('THROTTLED', 'slow down');
    if (key === missing) return new MarqueeError('SOURCE_NOT_FOUND', 'gone');
    if (key === hopeless) return new MarqueeError('OVERLOADED', 'busy');
    return undefined;
  };
  const summary = await prewarmer.run(all, { reason: 'failures' });
  t.match(summary, { rendered: 1, failed: 2 });
  t.equal(state.attempts.get(throttled!), 2, 'throttled once, then rendered');
  t.equal(state.attempts.get(missing!), 1, 'a missing source is not retried');
  t.equal(state.attempts.get(hopeless!), 3, 'retried up to the attempts, then failed');
  t.equal(await value('prewarmFailed'), 2);
});

t.test('a share of 0 prewarms nothing; close fails what is queued', async (t) => {
  const off = setup({ share: 0 });
  t.equal(off.prewarmer.limit, 0);
  t.match(await off.prewarmer.run(entries(2), { reason: 'off' }), { rendered: 0, failed: 2 });
  t.equal(off.state.rendered.length, 0);

  const { prewarmer, state } = setup({ maxInFlight: 4, share: 0.25 });
  const live = await Promise.all([0, 1, 2, 3].map(() => state.scheduler.acquire('live', 1000)));
  const running = prewarmer.run(entries(5), { reason: 'closing' });
  await sleep(5);
  prewarmer.close();
  t.match(await running, { total: 5, rendered: 0, failed: 5 });
  t.equal(state.scheduler.queued, 0, 'the waits for a slot are given up');
  for (const release of live) release();
});

t.test('the warm set: the rules’ prewarm section, one entry per image', async (t) => {
  const one = [{ titleId: '80000001' }];
  const set = warmSet(defaultRules, defaultCatalog, SOURCES_BUCKET, one);
  const of = (type: string, locale?: string) =>
    set.filter((e) => e.type === type && (locale === undefined || e.locale === locale));
  // boxshot by default: 3 sizes × 1x, 2x × 3 formats, 342x513@2x = 684x1026 → 15 images per locale.
  t.equal(of('boxshot', 'en').length, 15);
  t.equal(of('boxshot').length, 45, 'en, pt-BR, fr');
  // billboard: `prewarm: { sizes: [960x540, 1920x1080] }`: 2 sizes × 2 DPRs × 3 formats, 960x540@2x = 1920x1080.
  t.equal(of('billboard').length, 9);
  t.ok(
    of('billboard').every((e) => [960, 1920, 3840].includes(e.spec.width)),
    'only the listed sizes',
  );
  // logo (`any`): its 3 listed sizes at 1x, 2 at 2x (1200x400@2x is over the max), and those two
  // are 600x200 and 1200x400 at 1x: 3 images per format.
  t.equal(of('logo').length, 9);
  t.equal(new Set(set.map((e) => e.key)).size, set.length, 'no image twice');
  t.ok(
    set.every((e) => e.url.startsWith('/v1/artwork/') && !e.url.endsWith('.auto')),
    'canonical explicit URLs',
  );

  const filtered = warmSet(defaultRules, defaultCatalog, SOURCES_BUCKET, [
    { titleId: '80000001', type: 'boxshot', locale: 'fr' },
  ]);
  t.equal(filtered.length, 15);
  t.ok(filtered.every((e) => e.locale === 'fr' && e.version === '2'));
});

t.test('prewarm and store settings per type', async (t) => {
  const base = {
    aspect: '2:3',
    sizes: ['171x256', '342x513'],
    maxWidth: 1026,
    maxHeight: 1539,
    formats: ['webp', 'jpeg'],
  };
  const rules = rulesWith({
    poster: { ...base, prewarm: { sizes: ['342x513'], dprs: [1, 3], formats: ['webp'] } },
    still: { ...base, prewarm: false },
    thumb: { ...base, store: false },
  });
  const catalog = JSON.parse(JSON.stringify(CATALOG_DOC)) as {
    titles: Record<string, { artwork: Record<string, unknown> }>;
  };
  for (const type of ['poster', 'still', 'thumb'])
    catalog.titles['80000002']!.artwork[type] = { en: { source: `titles/80000002/${type}/en.jpg`, version: '1' } };
  const set = warmSet(rules, parseCatalog(JSON.stringify(catalog), 'catalog.json'), SOURCES_BUCKET, [
    { titleId: '80000002' },
  ]);
  const poster = set.filter((e) => e.type === 'poster');
  t.same(poster.map((e) => `${e.spec.width}x${e.spec.height}.${e.format}`).sort(), ['1026x1539.webp', '342x513.webp']);
  t.equal(set.filter((e) => e.type === 'still').length, 0, 'prewarm: false');
  t.equal(set.filter((e) => e.type === 'thumb').length, 0, 'store: false: nothing to prewarm into');
});

t.test('the rules refuse a prewarm naming what the type does not render', async (t) => {
  const base = { aspect: '2:3', sizes: ['171x256', '342x513'], maxWidth: 684, maxHeight: 1026, formats: ['webp'] };
  const cases: Array<[string, object, RegExp]> = [
    [
      'a size not listed',
      { prewarm: { sizes: ['200x300'] } },
      /prewarm\/sizes\/0.*200x300 is not a size this type renders/,
    ],
    ['a DPR the rules lack', { prewarm: { dprs: [4] } }, /prewarm\/dprs\/0.*4 is not one of the rules' DPRs/],
    [
      'a format the type lacks',
      { prewarm: { formats: ['avif'] } },
      /prewarm\/formats\/0.*avif is not one of the type's formats/,
    ],
    ['prewarm without the store', { store: false, prewarm: { dprs: [1] } }, /prewarm.*store: false/],
    ['a bad shape', { prewarm: { sizes: ['342x513'], colour: 'red' } }, /prewarm.*expected false or/],
    ['store not a boolean', { store: 'yes' }, /store.*expected true or false/],
  ];
  for (const [what, extra, message] of cases) {
    t.throws(() => rulesWith({ poster: { ...base, ...extra } }), message, what);
  }
  t.doesNotThrow(
    () => rulesWith({ poster: { ...base, store: false, prewarm: false } }),
    'store: false, prewarm: false',
  );
});

t.test('the catalog diff lists new versions, sources, locales and titles, nothing else', async (t) => {
  const next = JSON.parse(JSON.stringify(CATALOG_DOC)) as {
    titles: Record<
      string,
      { name: string; flags?: string[]; artwork: Record<string, Record<string, { source: string; version: string }>> }
    >;
  };
  t.same(changedArtwork(defaultCatalog, defaultCatalog), [], 'unchanged: nothing');
  next.titles['80000001']!.artwork.boxshot!.en!.version = '2';
  next.titles['80000001']!.artwork.billboard!.en!.source = 'titles/80000001/billboard/en-v2.jpg';
  next.titles['80000002']!.artwork.boxshot!.fr = { source: 'titles/80000002/boxshot/fr.jpg', version: '1' };
  next.titles['90000001'] = {
    name: 'New',
    artwork: { logo: { en: { source: 'titles/90000001/logo/en.png', version: '1' } } },
  };
  next.titles['80000003']!.flags = ['top10'];
  delete next.titles['80000004'];
  const changed = changedArtwork(defaultCatalog, parseCatalog(JSON.stringify(next), 'next.json'));
  t.same(changed.map((r) => `${r.titleId}/${r.type}/${r.locale}`).sort(), [
    '80000001/billboard/en',
    '80000001/boxshot/en',
    '80000002/boxshot/fr',
    '80000003/boxshot/en',
    '90000001/logo/en',
  ]);
});

t.test('a rules publish prewarms only the images whose look changed', async (t) => {
  const nextRules = rulesWith({ boxshot: { ...defaultRules.types.boxshot!, encoding: { webp: { quality: 60 } } } });
  const set = warmSetOfRulesChange(defaultRules, nextRules, defaultCatalog, SOURCES_BUCKET, [{ titleId: '80000001' }]);
  t.ok(set.length > 0);
  t.ok(
    set.every((e) => e.type === 'boxshot' && e.format === 'webp' && e.spec.quality === 60),
    'boxshot WebP only, at the new quality',
  );
  t.equal(set.length, 15, '5 WebP images in each of 3 locales');
  t.same(warmSetOfRulesChange(defaultRules, defaultRules, defaultCatalog, SOURCES_BUCKET), [], 'no change: nothing');
});
