// A publish's invalidation through `publishRules`, to a file target: the diff's tag plan to a
// backend that purges by tag, its path plan to one that does not, tags and paths reported apart
// with what was over-invalidated and kept in the history; paced, the waves' cursor kept beside the
// history entry, and an interrupted publish's waves resumed from it.
import t from 'tap';
import path from 'node:path';
import type { InvalidationResult, Invalidator, TagInvalidator } from '../../src/invalidation/invalidator.js';
import { resumeWaves, wavesFile } from '../../src/invalidation/waves.js';
import { listHistory, openTarget, publishRules } from '../../src/publish/index.js';
import { RULES_TEXT, SOURCES_BUCKET, defaultCatalog } from '../rules/fixtures.js';

/** A draft that changes the billboard badge: billboards of top-10 titles at 640 px and wider. */
const DRAFT = RULES_TEXT.replace('scale: 0.08', 'scale: 0.1');

function recorder(tags: boolean) {
  const calls: Array<{ tags: string[]; paths: string[] }> = [];
  const answer = (t: readonly string[], p: readonly string[]): InvalidationResult => {
    calls.push({ tags: [...t], paths: [...p] });
    return { backend: 'rec', paths: p.length, ...(tags ? { tags: t.length } : {}), requests: 1, ids: ['x'] };
  };
  const pathOnly: Invalidator = { name: 'rec', invalidate: async (p) => answer([], p) };
  const tagged: TagInvalidator = {
    ...pathOnly,
    supportsTags: true,
    invalidateTagged: async (p) => answer(p.tags, p.paths),
  };
  return { invalidator: tags ? tagged : pathOnly, calls };
}

async function publishTwice(dir: string, invalidator: Invalidator, extra: Record<string, unknown> = {}) {
  const base = {
    target: path.join(dir, 'rules.yaml'),
    author: 'ada',
    catalog: defaultCatalog,
    sourcesBucket: SOURCES_BUCKET,
  };
  await publishRules({ ...base, draftText: RULES_TEXT, now: () => new Date('2026-01-01T00:00:00Z') });
  return publishRules({
    ...base,
    ...extra,
    invalidator,
    draftText: DRAFT,
    now: () => new Date('2026-01-02T00:00:00Z'),
  });
}

t.test('a backend that purges by tag gets the tag plan; the result says tags and paths apart', async (t) => {
  const dir = t.testdir();
  const { invalidator, calls } = recorder(true);
  const r = await publishTwice(dir, invalidator);
  t.ok(r.diff.tagInvalidations.length > 0, 'the diff has a tag plan');
  t.same(calls, [{ tags: r.diff.tagInvalidations, paths: r.diff.tagFallbackPaths }]);
  t.match(r.invalidation, {
    plan: 'tags',
    tags: r.diff.tagInvalidations.length,
    paths: r.diff.tagFallbackPaths.length,
    overInvalidated: r.diff.tagOverInvalidated,
  });
  const [entry] = await listHistory({ target: path.join(dir, 'rules.yaml') });
  t.match(entry?.invalidation, { plan: 'tags', tags: r.diff.tagInvalidations.length }, 'kept in the history');
});

t.test('a path-only backend gets the path plan and its over-invalidation', async (t) => {
  const dir = t.testdir();
  const { invalidator, calls } = recorder(false);
  const r = await publishTwice(dir, invalidator);
  t.same(calls, [{ tags: [], paths: r.diff.invalidations }]);
  t.match(r.invalidation, {
    plan: 'paths',
    paths: r.diff.invalidations.length,
    overInvalidated: r.diff.overInvalidated,
  });
  t.notOk('tags' in r.invalidation && r.invalidation.tags !== undefined, 'no tags reported');
});

t.test('paced: waves as the budget says, the cursor beside the history entry; interrupted, resumed', async (t) => {
  const dir = t.testdir();
  const { invalidator, calls } = recorder(false);
  const controller = new AbortController();
  const pauses: number[] = [];
  // One render a second (0.5 of 2 slots at 1 s) and 1 s waves: a wave per changed URL.
  const pacing = { maxInFlight: 2, msPerRender: 1000, maxRenderShare: 0.5, waveSeconds: 1 };
  const r = await publishTwice(dir, invalidator, {
    exact: true,
    invalidationPacing: pacing,
    invalidationSignal: controller.signal,
    invalidationSleep: async (ms: number) => {
      pauses.push(ms);
      if (pauses.length === 2) {
        controller.abort();
        throw controller.signal.reason;
      }
    },
  });
  const changed = r.diff.changedPaths.length;
  t.ok(changed >= 3, `${changed} changed URLs: enough for three waves`);
  t.match(r.invalidation, { error: new RegExp(`resume the waves of publish ${r.id}`) });
  t.equal(calls.length, 2, 'two waves before the interruption');
  t.same(pauses, [1000, 1000], 'one render at 1/s after each');

  const target = openTarget(path.join(dir, 'rules.yaml'));
  const kept = JSON.parse((await target.getHistory(wavesFile(r.id)))!) as { next: number; waves: unknown[] };
  t.same([kept.next, kept.waves.length], [2, changed]);
  const resumed = await resumeWaves(r.id, { invalidator, store: target, sleep: async () => {} });
  t.equal(resumed.waves.sent, changed);
  const sent = calls.flatMap((c) => c.paths);
  t.equal(new Set(sent).size, sent.length, 'no path sent twice');
  t.same([...sent].sort(), [...r.diff.invalidations].sort(), 'and every path of the plan sent');
});
