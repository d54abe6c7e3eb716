import t from 'tap';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Draft, DraftList, ValidateRulesReply } from '@marquee/shared';
import type { Problem } from '../../src/plugins/problem.js';
import { BUCKET, RULES, bearer, startHarness } from './harness.js';

/**
 * The drafts API through `app.inject()`: opening the rules in force as a draft, saving, loading,
 * the loader's refusals placed by line and field, and the session every route requires.
 */
const h = await startHarness();
t.teardown(() => h.close());
const { app } = h;
const rulesText = await readFile(RULES, 'utf8');

/** The 1-based line of the first occurrence of `needle` in `text`, and its column. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} is not in the text`);
  const before = text.slice(0, at);
  return { line: before.split('\n').length, column: at - before.lastIndexOf('\n') };
}

async function openDraft(yaml?: string): Promise<Draft> {
  const res = await app.inject({
    method: 'POST',
    url: '/studio/api/drafts',
    headers: bearer,
    payload: yaml === undefined ? {} : { yaml },
  });
  if (res.statusCode !== 201) throw new Error(`open draft: ${res.statusCode} ${res.body}`);
  return res.json<Draft>();
}

t.test('every drafts route needs a session: 401 without one, before the body is read', async (t) => {
  const id = '0123456789abcdef';
  const cases: Array<{ method: 'GET' | 'POST' | 'PUT'; url: string; payload?: object }> = [
    { method: 'GET', url: '/studio/api/drafts' },
    { method: 'POST', url: '/studio/api/drafts', payload: {} },
    { method: 'POST', url: '/studio/api/drafts/validate', payload: { yaml: 'version: 1' } },
    { method: 'GET', url: `/studio/api/drafts/${id}` },
    { method: 'PUT', url: `/studio/api/drafts/${id}`, payload: { yaml: 'version: 1' } },
    { method: 'GET', url: `/studio/api/drafts/${id}/impact` },
    { method: 'POST', url: '/studio/api/previews', payload: { renders: [] } },
    { method: 'POST', url: '/studio/api/compare', payload: {} },
  ];
  for (const c of cases) {
    for (const headers of [{}, { authorization: 'Bearer not-the-studio-token' }]) {
      const res = await app.inject({ ...c, headers });
      t.equal(res.statusCode, 401, `${c.method} ${c.url}`);
      t.equal(res.json<Problem>().code, 'UNAUTHORIZED');
    }
  }
});

t.test('open the rules in force as a draft: their text as written, comments kept, saved under drafts/', async (t) => {
  const draft = await openDraft();
  t.match(draft.id, /^[0-9a-f]{16}$/);
  t.equal(draft.yaml, rulesText, 'the rules file itself, comments and all');
  t.equal(draft.rev, createHash('sha256').update(rulesText).digest('hex').slice(0, 16));
  t.equal(draft.link, `/studio?draft=${draft.id}`);
  t.equal(draft.base, app.rulesPoller.current().rulesEtag, 'opened from the rules in force');
  t.equal(draft.baseInForce, true);
  const object = await h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `drafts/${draft.id}.yaml` }));
  t.equal(await object.Body?.transformToString('utf8'), rulesText, 'stored in the sources bucket under drafts/');

  const loaded = await app.inject({ method: 'GET', url: `/studio/api/drafts/${draft.id}`, headers: bearer });
  t.equal(loaded.statusCode, 200);
  t.equal(loaded.headers['cache-control'], 'private, no-store');
  t.same(loaded.json<Draft>(), { ...draft, savedAt: loaded.json<Draft>().savedAt });

  const list = await app.inject({ method: 'GET', url: '/studio/api/drafts', headers: bearer });
  t.ok(
    list.json<DraftList>().drafts.some((d) => d.id === draft.id),
    'listed',
  );
});

t.test('save an edit; load it back; the artwork route still serves the rules in force', async (t) => {
  const draft = await openDraft();
  const edited = rulesText.replace('scale: 0.22', 'scale: 0.4');
  const saved = await app.inject({
    method: 'PUT',
    url: `/studio/api/drafts/${draft.id}`,
    headers: bearer,
    payload: { yaml: edited },
  });
  t.equal(saved.statusCode, 200);
  const after = saved.json<Draft>();
  t.not(after.rev, draft.rev, 'a new revision');
  t.equal(after.base, draft.base, 'still opened from the same rules');
  const loaded = await app.inject({ method: 'GET', url: `/studio/api/drafts/${draft.id}`, headers: bearer });
  t.equal(loaded.json<Draft>().yaml, edited);
  t.equal(loaded.json<Draft>().rev, after.rev);
  const overlays = app.rulesPoller.current().rules.types.boxshot?.overlays ?? [];
  t.equal(overlays[0]?.scale, 0.22, 'the rules in force are untouched');
});

t.test('a refused save names the line, column and field, and keeps the saved draft', async (t) => {
  const draft = await openDraft();
  const cases = [
    {
      name: 'a value out of range',
      yaml: rulesText.replace('scale: 0.22', 'scale: 2'),
      field: '/types/boxshot/overlays/0/scale',
      at: 'scale: 2',
      offset: 'scale: '.length,
      message: /expected a fraction in \(0, 1\], got 2/,
    },
    {
      name: 'an unknown field',
      yaml: rulesText.replace('scale: 0.22,', 'scale: 0.22, colour: red,'),
      field: '/types/boxshot/overlays/0/colour',
      at: 'colour: red',
      offset: 'colour: '.length,
      message: /unknown field/,
    },
    {
      name: 'a size off the aspect (a check across fields)',
      yaml: rulesText.replace('sizes: [171x256, 342x513, 684x1026]', 'sizes: [171x256, 342x600, 684x1026]'),
      field: '/types/boxshot/sizes/1',
      at: '342x600',
      offset: 0,
      message: /not on the aspect 2:3/,
    },
  ];
  for (const c of cases) {
    const res = await app.inject({
      method: 'PUT',
      url: `/studio/api/drafts/${draft.id}`,
      headers: bearer,
      payload: { yaml: c.yaml },
    });
    t.equal(res.statusCode, 400, c.name);
    const problem = res.json<Problem>();
    t.equal(problem.code, 'INVALID_PARAMETER', c.name);
    const { line, column } = positionOf(c.yaml, c.at);
    t.equal(problem.field, c.field, `${c.name}: field`);
    t.equal(problem.line, line, `${c.name}: line`);
    t.equal(problem.column, column + c.offset, `${c.name}: column`);
    t.match(problem.detail, new RegExp(`^line ${line}, column \\d+: draft [0-9a-f]{16}: ${c.field}: `));
    t.match(problem.message, c.message, `${c.name}: the loader's own words`);
  }
  const syntax = await app.inject({
    method: 'PUT',
    url: `/studio/api/drafts/${draft.id}`,
    headers: bearer,
    payload: { yaml: rulesText.replace('defaultLocale: en', 'defaultLocale: en\n  bad: [indent') },
  });
  t.equal(syntax.statusCode, 400);
  const problem = syntax.json<Problem & { line?: number; column?: number; field?: string }>();
  // The parser places this one on the mapping the bad line breaks (`defaultLocale: en`), or on it.
  const edited = positionOf(rulesText, 'defaultLocale: en').line;
  t.ok(problem.line === edited || problem.line === edited + 1, `a syntax error: its line (${problem.line})`);
  t.match(problem.message, new RegExp(`at line ${problem.line}, column ${problem.column}:`), 'as the loader says');
  t.notOk(problem.field, 'and no field');
  t.match(problem.message, /YAML syntax error/);

  const loaded = await app.inject({ method: 'GET', url: `/studio/api/drafts/${draft.id}`, headers: bearer });
  t.equal(loaded.json<Draft>().rev, draft.rev, 'nothing refused was saved');

  const fresh = await app.inject({
    method: 'POST',
    url: '/studio/api/drafts',
    headers: bearer,
    payload: { yaml: cases[0]?.yaml },
  });
  t.equal(fresh.statusCode, 400, 'nor opened as a new draft');
});

t.test('validate as one types: the same verdicts, without saving', async (t) => {
  const validate = async (yaml: string) =>
    (
      await app.inject({ method: 'POST', url: '/studio/api/drafts/validate', headers: bearer, payload: { yaml } })
    ).json<ValidateRulesReply>();
  t.same(await validate(rulesText), { ok: true });
  const missing = rulesText.replace('    aspect: "2:3"\n', '');
  const reply = await validate(missing);
  t.equal(reply.ok, false);
  t.equal(reply.problem?.field, '/types/boxshot/aspect');
  t.match(reply.problem?.message, /is required/);
  // A missing field is placed on the mapping that should hold it.
  t.equal(reply.problem?.line, positionOf(missing, 'description: Portrait').line);
});

t.test('unknown or malformed draft ids', async (t) => {
  const unknown = await app.inject({ method: 'GET', url: '/studio/api/drafts/ffffffffffffffff', headers: bearer });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json<Problem>().code, 'NOT_FOUND');
  const put = await app.inject({
    method: 'PUT',
    url: '/studio/api/drafts/ffffffffffffffff',
    headers: bearer,
    payload: { yaml: rulesText },
  });
  t.equal(put.statusCode, 404, 'a save needs an opened draft');
  const bad = await app.inject({ method: 'GET', url: '/studio/api/drafts/..%2Fcatalog', headers: bearer });
  t.equal(bad.statusCode, 400);
});
