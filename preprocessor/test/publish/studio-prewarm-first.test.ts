import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import type { Draft, PublishReply } from '@marquee/shared';
import { RULES_PATH, metric, startStoreHarness } from '../store-harness.js';

/**
 * The studio's publish renders the looks a draft changes into the derivative store BEFORE it
 * writes the rules (issue 21): every prewarm render happens while the rules file still holds the
 * old rules, and right after the publish each changed URL is answered from the store without a
 * Generator invocation. A publish that wrote first and prewarmed after (the old order, a
 * fire-and-forget prewarm) fails both checks: renders would see the new file, and the first
 * requests would find the store empty.
 */
const original = await readFile(RULES_PATH, 'utf8');
let rulesFile = '';
/** For each prewarm render: whether the rules file still held the old rules when it ran. */
const seenBeforeFlip: boolean[] = [];
const h = await startStoreHarness({
  double: {
    renderGate: async (request) => {
      if (request.store === true) seenBeforeFlip.push((await readFile(rulesFile, 'utf8')) === original);
    },
  },
});
rulesFile = h.rulesFile;
t.teardown(() => h.close());
const app = await h.start({ generator: { maxInFlight: 4 }, prewarm: { share: 0.5, onReload: false } });
await app.ready();
const bearer = { authorization: 'Bearer studio-token-for-tests' };

async function publishDraft(t: Test, yaml: string, query = ''): Promise<PublishReply> {
  const draft = (
    await app.inject({ method: 'POST', url: '/studio/api/drafts', headers: bearer, payload: { yaml } })
  ).json<Draft>();
  const res = await app.inject({
    method: 'POST',
    url: `/studio/api/drafts/${draft.id}/publish${query}`,
    headers: bearer,
    payload: { rev: draft.rev, author: 'Test Person' },
  });
  t.equal(res.statusCode, 200, res.body);
  return res.json<PublishReply>();
}

/** The shipped rules with the boxshot's WebP at `quality` (they give it none of its own). */
function boxshotWebp(quality: number): string {
  const anchor =
    '    enlarge: false\n    overlays:\n      - { flag: top10, source: badges/top10.png, gravity: northeast, scale: 0.22';
  if (!original.includes(anchor)) throw new Error('the shipped rules changed: update the boxshot anchor');
  return original.replace(anchor, `    encoding:\n      webp: { quality: ${quality} }\n${anchor}`);
}

t.test('the studio publish stores the changed looks before it writes the rules', async (t) => {
  // The boxshot's WebP quality, only: every boxshot WebP URL changes, nothing else.
  const draft = boxshotWebp(30);
  t.not(draft, original, 'the draft changes the boxshot WebP quality');
  const reply = await publishDraft(t, draft);
  t.equal(reply.published, true);
  t.ok(reply.changed > 0, `${reply.changed} URLs change`);
  t.match(
    reply.prewarm,
    /^before the rules were written \(set: changed\): \d+ images?, \d+ rendered, 0 already stored, 0 failed/,
  );
  t.match(reply.prewarm, /none of the \d+ changed or added URLs renders live/);
  t.ok(seenBeforeFlip.length > 0, `${seenBeforeFlip.length} prewarm renders`);
  t.ok(seenBeforeFlip.every(Boolean), 'every prewarm render ran while the old rules were still the ones written');

  const renders = h.calls.renders.length;
  for (const size of ['171x256', '342x513', '684x1026']) {
    const res = await app.inject({ method: 'GET', url: `/v1/artwork/boxshot/t1/${size}.webp` });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['x-cache'], 'store', `${size}.webp from the store`);
  }
  t.equal(h.calls.renders.length, renders, 'no Generator invocation for the changed URLs');
  t.equal(await metric(app, 'marquee_prewarm_failed_total'), 0);
});

t.test("?warmSet=prewarm-set renders only the rules' prewarm set and says how many URLs render live", async (t) => {
  const draft = boxshotWebp(31);
  const reply = await publishDraft(t, draft, '?warmSet=prewarm-set');
  t.match(reply.prewarm, /\(set: prewarm-set\)/);
  const live = Number(/(\d+) of \d+ changed or added URLs will render live/.exec(reply.prewarm)?.[1]);
  t.ok(live > 0, `${live} URLs outside the prewarm set render live`);
  const bad = await app.inject({
    method: 'POST',
    url: '/studio/api/drafts/x/publish?warmSet=most-requested',
    headers: bearer,
    payload: { rev: '0000000000000000' },
  });
  t.equal(bad.statusCode, 400, 'an unknown set is refused');
});
