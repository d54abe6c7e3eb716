import t from 'tap';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runRulesCli } from './run-cli.js';
import { diffRules } from '../../src/rules/diff.js';
import { parseRules } from '../../src/rules/load.js';
import { CATALOG_TEXT, RULES_TEXT, SOURCES_BUCKET, defaultCatalog, defaultRules } from '../rules/fixtures.js';

const BADGE_DRAFT = RULES_TEXT.replace('scale: 0.08', 'scale: 0.1');

const dir = t.testdir({
  'rules.yaml': RULES_TEXT,
  'draft.yaml': BADGE_DRAFT,
  'broken.yaml': RULES_TEXT.replace('sizes: [171x256, 342x513, 684x1026]', 'sizes: [171x256, 342-513, 684x1026]'),
  'catalog.json': CATALOG_TEXT,
});
const file = (name: string) => path.join(dir, name);

// Where the Preprocessor would find its catalog; a fast poll, so a publish waits ~1 s for it.
const rules = (...args: string[]) =>
  runRulesCli(
    {
      MARQUEE_CATALOG: file('catalog.json'),
      MARQUEE_SOURCES_BUCKET: SOURCES_BUCKET,
      MARQUEE_RELOAD_MS: '100',
    },
    args,
  );

t.test('check: a broken file exits 1 with the loader message, placed by line and field', async (t) => {
  const bad = await rules('check', file('broken.yaml'));
  t.equal(bad.code, 1);
  const line =
    (await readFile(file('broken.yaml'), 'utf8')).split('\n').findIndex((l) => l.includes('sizes: [171x256, 342-513')) +
    1;
  t.match(
    bad.stderr,
    new RegExp(`broken\\.yaml:${line}:\\d+: /types/boxshot/sizes/1: expected WxH like 342x513, got "342-513"`),
  );
  const good = await rules('check', file('rules.yaml'));
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /rules\.yaml: ok \(3 types: boxshot, billboard, logo\)/);
});

t.test('diff --json: the diff of the library, as JSON', async (t) => {
  const res = await rules('diff', file('rules.yaml'), file('draft.yaml'), '--json', '--ms-per-image', '250');
  t.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout) as Record<string, unknown>;
  const expected = diffRules({
    current: defaultRules,
    next: parseRules(BADGE_DRAFT, 'draft.yaml'),
    catalog: defaultCatalog,
    sourcesBucket: SOURCES_BUCKET,
    costs: { msPerImage: 250 },
  });
  t.same(out, {
    old: file('rules.yaml'),
    new: file('draft.yaml'),
    catalog: file('catalog.json'),
    ...JSON.parse(JSON.stringify(expected)),
  });
  t.match(out, {
    changed: Number,
    added: 0,
    removed: 0,
    unchanged: Number,
    byType: { billboard: { changed: Number } },
    renderSeconds: Number,
    costUsd: Number,
    costBasis: /250 ms per image \(given\)/,
    invalidations: Array,
    changedPaths: Array,
  });
  t.ok((out.changed as number) > 0);

  const human = await rules('diff', file('rules.yaml'), file('draft.yaml'));
  t.equal(human.code, 0);
  t.match(human.stdout, /billboard\s+\d+\s+0\s+0\s+\d+/);
  t.match(human.stdout, /invalidate: 1 path \(/);
});

t.test('bad arguments exit 1 and say why', async (t) => {
  const ms = await rules('diff', file('rules.yaml'), file('draft.yaml'), '--ms-per-image', '1e3');
  t.equal(ms.code, 1);
  t.match(ms.stderr, /--ms-per-image must be an integer from 1 to 900000, got "1e3"/);
  const unknown = await rules('diff', file('rules.yaml'), file('draft.yaml'), '--nope');
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /Unknown option '--nope'[\s\S]*usage: rules/);
  const none = await rules();
  t.equal(none.code, 1);
  t.match(none.stderr, /a command is required/);
  const brokenDraft = await rules('diff', file('rules.yaml'), file('broken.yaml'));
  t.equal(brokenDraft.code, 1);
  t.match(brokenDraft.stderr, /broken\.yaml:\d+:\d+: \/types\/boxshot\/sizes\/1/);
});

t.test('publish, history and rollback to a file, invalidating through Varnish', async (t) => {
  // Varnish as the invalidator sees it: BAN and PURGE answered 200, each recorded; a tag purge
  // (xkey-purge, the stack's VCL) by its tags, since the Varnish backend purges by tag.
  const seen: string[] = [];
  const varnish = http.createServer((req, res) => {
    const tags = req.headers['xkey-purge'];
    if (typeof tags === 'string') for (const tag of tags.split(' ')) seen.push(`xkey ${tag}`);
    else seen.push(`${req.method} ${req.url}`);
    res.setHeader('x-varnish', String(seen.length));
    res.end('ok');
  });
  varnish.listen(0, '127.0.0.1');
  await once(varnish, 'listening');
  t.teardown(() => varnish.close());
  const url = `http://127.0.0.1:${(varnish.address() as AddressInfo).port}`;
  const target = file('published.yaml');
  await writeFile(target, RULES_TEXT);

  const published = await rules(
    'publish',
    file('draft.yaml'),
    '--to',
    target,
    '--author',
    'ada',
    '--varnish',
    url,
    '--exact',
  );
  t.equal(published.code, 0, published.stderr);
  t.equal(await readFile(target, 'utf8'), BADGE_DRAFT);
  const id = /history: (\S+)/.exec(published.stdout)?.[1] as string;
  t.ok(id, published.stdout);
  const expected = diffRules({
    current: defaultRules,
    next: parseRules(BADGE_DRAFT, 'draft.yaml'),
    catalog: defaultCatalog,
    sourcesBucket: SOURCES_BUCKET,
    maxExactPathsPerTitle: Infinity,
  });
  // The diff's tag plan: its tags, and the exact paths no tag names.
  const sent = [
    ...expected.tagInvalidations.map((tag) => `xkey ${tag}`),
    ...expected.tagFallbackPaths.map((p) => `PURGE ${p}`),
  ];
  t.ok(sent.length > 0);
  t.same(seen.sort(), sent.sort(), 'the tag plan sent to Varnish');
  t.match(
    published.stdout,
    new RegExp(
      `invalidation: varnish, ${expected.tagFallbackPaths.length} paths? and ${expected.tagInvalidations.length} tags?`,
    ),
  );

  const broken = await rules('publish', file('broken.yaml'), '--to', target, '--varnish', url, '--exact');
  t.equal(broken.code, 1);
  t.match(broken.stderr, /broken\.yaml:\d+:\d+: .*\nnot published/);

  const history = await rules('history', '--to', target);
  t.equal(history.code, 0);
  t.match(history.stdout, new RegExp(`${id}\\s+ada\\s+${expected.changed} changed, 0 added, 0 removed`));

  seen.length = 0;
  const rolled = await rules('rollback', id, '--to', target, '--author', 'grace', '--varnish', url, '--exact');
  t.equal(rolled.code, 0, rolled.stderr);
  t.equal(await readFile(target, 'utf8'), RULES_TEXT, 'the rules before the publish');
  t.equal(seen.length, sent.length, 'the same objects invalidated again');
  const after = await rules('history', '--to', target, '--json');
  t.match(JSON.parse(after.stdout), [
    { author: 'grace', rollbackOf: id },
    { id, author: 'ada' },
  ]);
});

t.test('a paced publish: waves within the render budget, stopped by a CDN failure, finished by resume', async (t) => {
  // The second request to the CDN fails: the first wave is acknowledged and kept, the rest is not sent.
  let requests = 0;
  let failAt = 2;
  const seen: string[] = [];
  const varnish = http.createServer((req, res) => {
    requests++;
    if (requests === failAt) {
      res.statusCode = 500;
      return res.end('down');
    }
    const tags = req.headers['xkey-purge'];
    if (typeof tags === 'string') for (const tag of tags.split(' ')) seen.push(`xkey ${tag}`);
    else seen.push(`${req.method} ${req.url}`);
    res.setHeader('x-varnish', String(requests));
    res.end('ok');
  });
  varnish.listen(0, '127.0.0.1');
  await once(varnish, 'listening');
  t.teardown(() => varnish.close());
  const url = `http://127.0.0.1:${(varnish.address() as AddressInfo).port}`;
  const target = file('paced.yaml');
  await writeFile(target, RULES_TEXT);
  // 1 slot × 1000 / 100 ms × 0.5 = 5 renders/s, 1 s a wave: 5 renders a wave; 1 in 20 URLs asked again.
  const pacing = ['--max-render-share', '0.5', '--max-in-flight', '1', '--ms-per-image', '100', '--wave-seconds', '1'];
  const first = await rules(
    'publish',
    file('draft.yaml'),
    '--to',
    target,
    '--varnish',
    url,
    '--hit-rate',
    '0.05',
    ...pacing,
  );
  t.equal(first.code, 1, 'a failed wave fails the publish');
  t.match(first.stdout, /invalidation wave 1\/(\d+): /, 'the first wave, with the count');
  const waves = Number(/invalidation wave 1\/(\d+)/.exec(first.stdout)?.[1]);
  t.ok(waves >= 3, `${waves} waves`);
  const id = /history: (\S+)/.exec(first.stdout)?.[1] as string;
  t.match(first.stdout + first.stderr, new RegExp(`resume the waves of publish ${id}`));
  const afterFirst = seen.length;

  failAt = 0;
  const resumed = await rules('resume', id, '--to', target, '--varnish', url);
  t.equal(resumed.code, 0, resumed.stderr);
  t.match(resumed.stdout, new RegExp(`invalidation wave 2/${waves}: `), 'goes on at the wave that failed');
  t.match(resumed.stdout, new RegExp(`${waves} of ${waves} waves sent`));
  const expected = diffRules({
    current: defaultRules,
    next: parseRules(BADGE_DRAFT, 'draft.yaml'),
    catalog: defaultCatalog,
    sourcesBucket: SOURCES_BUCKET,
  });
  const plan = [
    ...expected.tagInvalidations.map((tag) => `xkey ${tag}`),
    ...expected.tagFallbackPaths.map((p) => `PURGE ${p}`),
  ];
  t.ok(afterFirst > 0 && afterFirst < plan.length, 'the first run sent part of the plan');
  t.same([...seen].sort(), [...plan].sort(), 'the whole plan, each item once');

  const none = await rules('publish', file('draft.yaml'), '--to', target, '--hit-rate', '0.5');
  t.equal(none.code, 1);
  t.match(none.stderr, /--hit-rate paces waves: it needs --max-render-share/);
});
