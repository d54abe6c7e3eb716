import t from 'tap';
import { readFile } from 'node:fs/promises';
import type { Draft, PreviewReply, PublishReply } from '@marquee/shared';
import type { Problem } from '../../src/plugins/problem.js';
import { generatorDouble } from './generator-double.js';
import { bearer, startHarness } from './harness.js';

/**
 * Publishing a draft from the studio: the revision on screen is written where this Preprocessor
 * reads its rules (the harness's copy of rules.yaml), with a history entry, and served at once.
 */
const generator = generatorDouble();
const h = await startHarness({ lambda: generator.lambda });
t.teardown(() => h.close());
const { app } = h;
const original = await readFile(h.rulesPath, 'utf8');

async function openDraft(yaml: string): Promise<Draft> {
  const res = await app.inject({ method: 'POST', url: '/studio/api/drafts', headers: bearer, payload: { yaml } });
  return res.json<Draft>();
}

const publish = (draft: Draft, rev = draft.rev, headers: Record<string, string> = bearer) =>
  app.inject({
    method: 'POST',
    url: `/studio/api/drafts/${draft.id}/publish`,
    headers,
    payload: { rev, author: 'Test Person' },
  });

t.test('publish: the draft becomes the rules served, with a history entry', async (t) => {
  const draft = await openDraft(original.replace('scale: 0.22', 'scale: 0.4'));
  const before = await app.inject({ method: 'GET', url: '/v1/artwork/boxshot/t1/342x513.jpg' });

  t.equal((await publish(draft, draft.rev, {})).statusCode, 401, 'only a signed-in studio publishes');
  const stale = await publish(draft, '0000000000000000');
  t.equal(stale.statusCode, 404, 'only the revision on screen');
  t.equal(stale.json<Problem>().code, 'NOT_FOUND');
  t.equal(await readFile(h.rulesPath, 'utf8'), original, 'nothing written by a refused publish');

  const res = await publish(draft);
  t.equal(res.statusCode, 200);
  const reply = res.json<PublishReply>();
  t.equal(reply.published, true);
  t.equal(reply.target, h.rulesPath, 'to the Preprocessor’s own rules location');
  t.equal(reply.servedEtag, reply.etag, 'served here at once');
  t.ok(reply.changed > 0, `${reply.changed} URLs change`);
  t.match(reply.invalidation, /no CDN to invalidate/, 'says the CDN was not invalidated, and how to');
  t.equal(await readFile(h.rulesPath, 'utf8'), draft.yaml, 'the draft byte for byte, comments kept');
  t.equal(app.rulesPoller.current().rules.types.boxshot?.overlays?.[0]?.scale, 0.4);

  const after = await app.inject({ method: 'GET', url: '/v1/artwork/boxshot/t1/342x513.jpg' });
  t.not(after.headers.etag, before.headers.etag, 'the artwork route serves the published look');
  const { renders } = (
    await app.inject({
      method: 'POST',
      url: '/studio/api/previews',
      headers: bearer,
      payload: {
        renders: [
          { rules: 'current', type: 'boxshot', titleId: 't1', width: 342, height: 513, dpr: 1, format: 'jpeg' },
        ],
      },
    })
  ).json<PreviewReply>();
  t.equal(`"${renders[0]?.preview?.key}"`, after.headers.etag, 'and the current row with it');

  const again = (await publish(draft)).json<PublishReply>();
  t.equal(again.published, false, 'publishing the rules in force again writes nothing');

  // Roll back through the same route: a draft of the original text.
  const back = (await publish(await openDraft(original))).json<PublishReply>();
  t.equal(back.published, true);
  t.equal(await readFile(h.rulesPath, 'utf8'), original);
});
