// The impact panel's cost basis says where its ms per image comes from: this Preprocessor's
// measured mean Generator invocation, never "(given)" (which is a figure passed on the command line).
import t from 'tap';
import { readFile } from 'node:fs/promises';
import type { Draft, Impact } from '@marquee/shared';
import { RULES, bearer, startHarness } from './studio/harness.js';

t.test('a measured mean is called measured, once', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  for (let i = 0; i < 20; i++) h.app.metrics.generatorDuration.observe(0.25);
  const yaml = (await readFile(RULES, 'utf8')).replace('scale: 0.22,', 'scale: 0.4,');
  const opened = await h.app.inject({ method: 'POST', url: '/studio/api/drafts', headers: bearer, payload: { yaml } });
  t.equal(opened.statusCode, 201);
  const draft = opened.json<Draft>();
  const res = await h.app.inject({ method: 'GET', url: `/studio/api/drafts/${draft.id}/impact`, headers: bearer });
  t.equal(res.statusCode, 200);
  const { costBasis } = res.json<Impact>();
  t.match(costBasis, /250 ms per image \(measured: this Preprocessor's mean Generator invocation\)/);
  t.notMatch(costBasis, /given/, 'not "(given)"');
  t.equal(costBasis.split('measured').length - 1, 1, `said once: ${costBasis}`);
});
