import t from 'tap';
import type { Catalog } from '@marquee/shared';
import {
  consume,
  type Engine,
  type Log,
  type PlanFilter,
  type WarmEntry,
  type World,
} from '../prewarm-consumer/consume.js';
import { watchedFrom, ConsumerEnv } from '../prewarm-consumer/env.js';
import { artworkUsing, objectKey, parseRecord, type Watched } from '../prewarm-consumer/events.js';
import { Value } from '@sinclair/typebox/value';

const watched: Watched = {
  sourcesBucket: 'sources',
  artworkPrefix: 'titles/',
  catalog: { bucket: 'sources', key: 'catalog.json' },
  rules: { bucket: 'config', key: 'marquee/rules.yaml' },
};

/** An SQS record whose body is the S3 notification S3 sends for these objects. */
function s3Record(messageId: string, objects: { bucket: string; key: string; event?: string }[]) {
  return {
    messageId,
    body: JSON.stringify({
      Records: objects.map((o) => ({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: '2026-11-26T10:00:00.000Z',
        eventName: o.event ?? 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'prewarm',
          bucket: { name: o.bucket, arn: `arn:aws:s3:::${o.bucket}` },
          object: { key: o.key, size: 1234, eTag: 'abc', versionId: 'v2', sequencer: '0A' },
        },
      })),
    }),
  };
}

t.test('an S3 event inside an SQS record becomes the change it names', async (t) => {
  t.same(parseRecord(s3Record('a', [{ bucket: 'sources', key: 'titles/80000001/boxshot/en.jpg' }]), watched), {
    messageId: 'a',
    ok: true,
    changes: [{ kind: 'artwork', bucket: 'sources', key: 'titles/80000001/boxshot/en.jpg' }],
    ignored: [],
  });
  t.match(parseRecord(s3Record('b', [{ bucket: 'sources', key: 'catalog.json' }]), watched), {
    ok: true,
    changes: [{ kind: 'catalog' }],
  });
  t.match(parseRecord(s3Record('c', [{ bucket: 'config', key: 'marquee/rules.yaml' }]), watched), {
    ok: true,
    changes: [{ kind: 'rules' }],
  });
});

t.test('keys arrive form-encoded: `+` is a space, %XX a byte', async (t) => {
  t.equal(objectKey('titles/80000001/boxshot/pt+BR%C3%A9.jpg'), 'titles/80000001/boxshot/pt BRé.jpg');
  t.equal(objectKey('bad%E0%A4%A'), undefined);
  t.match(parseRecord(s3Record('a', [{ bucket: 'sources', key: 'titles/8/boxshot/fr+CA.jpg' }]), watched), {
    changes: [{ kind: 'artwork', key: 'titles/8/boxshot/fr CA.jpg' }],
  });
});

t.test("what is not ours is ignored, not failed: S3's test event, other keys, removals", async (t) => {
  t.same(
    parseRecord({ messageId: 't', body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }) }, watched),
    {
      messageId: 't',
      ok: true,
      changes: [],
      ignored: ['s3:TestEvent'],
    },
  );
  t.match(
    parseRecord(
      s3Record('o', [
        { bucket: 'sources', key: 'staging/upload.jpg' },
        { bucket: 'sources', key: 'catalog.json.bak' },
        { bucket: 'other', key: 'titles/1/boxshot/en.jpg' },
        { bucket: 'sources', key: 'titles/1/boxshot/en.jpg', event: 'ObjectRemoved:Delete' },
      ]),
      watched,
    ),
    { ok: true, changes: [], ignored: { length: 4 } },
  );
});

t.test('a malformed record is a failure with a reason, never an exception', async (t) => {
  const bad = [
    'not json',
    '{}',
    JSON.stringify({ Records: [] }),
    JSON.stringify({ Records: [{ eventSource: 'aws:sns' }] }),
    JSON.stringify({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: {} } }] }),
    s3Record('x', [{ bucket: 'sources', key: 'titles/%E0%A4%A' }]).body,
  ];
  for (const body of bad) {
    const parsed = parseRecord({ messageId: 'm', body }, watched);
    t.equal(parsed.ok, false, body.slice(0, 60));
    if (!parsed.ok) t.ok(parsed.reason.length > 0);
  }
});

const catalog: Catalog = {
  version: 1,
  titles: {
    '1': {
      name: 'One',
      artwork: {
        boxshot: {
          en: { source: 'titles/1/boxshot/en.jpg', version: '2' },
          fr: { source: 'titles/1/boxshot/fr.jpg', version: '1' },
        },
        // Two types sharing one source.
        billboard: { en: { source: 'titles/1/boxshot/en.jpg', version: '2' } },
      },
    },
    '2': { name: 'Two', artwork: { boxshot: { en: { source: 'titles/2/boxshot/en.jpg', version: '1' } } } },
  },
};

t.test('a source key → every catalog artwork that names it', async (t) => {
  t.same(artworkUsing(catalog, 'titles/1/boxshot/en.jpg'), [
    { titleId: '1', type: 'boxshot', locale: 'en' },
    { titleId: '1', type: 'billboard', locale: 'en' },
  ]);
  t.same(artworkUsing(catalog, 'titles/9/boxshot/en.jpg'), [], 'not in the catalog yet');
});

t.test('the environment the CDK app sets is the one the consumer reads', async (t) => {
  const env = Value.Default(ConsumerEnv, {
    MARQUEE_RULES: '/var/task/rules.yaml',
    MARQUEE_CATALOG: 's3://sources/catalog.json',
    MARQUEE_SOURCES_BUCKET: 'sources',
    MARQUEE_DERIVATIVES_BUCKET: 'derivatives',
    MARQUEE_ARTWORK_PREFIX: 'titles/',
    MARQUEE_GENERATOR_FUNCTION: 'generator',
    MARQUEE_GENERATOR_TIMEOUT_MS: 32000,
    MARQUEE_PREWARM_CONCURRENCY: 5,
  }) as ConsumerEnv;
  t.same(watchedFrom(env), {
    sourcesBucket: 'sources',
    artworkPrefix: 'titles/',
    catalog: { bucket: 'sources', key: 'catalog.json' },
    rules: undefined,
  });
});

// ── consume: a fake engine that records what it was asked ─────────────────────────────────────

interface Entry extends WarmEntry {
  filter: PlanFilter;
}

/** Two outputs per (title, type, locale) of the catalog, keyed the way the store keys them. */
function fakeEngine(
  opts: {
    failRender?: (id: string) => boolean;
    refuseRender?: (id: string) => boolean;
    load?: () => Promise<World>;
    stored?: Set<string>;
  } = {},
) {
  const calls = {
    loads: 0,
    plans: [] as PlanFilter[],
    checks: [] as string[],
    renders: [] as string[],
    maxInFlight: 0,
  };
  let inFlight = 0;
  const engine: Engine<World, Entry> = {
    async load() {
      calls.loads++;
      return opts.load ? opts.load() : { catalog };
    },
    plan(world, filter) {
      calls.plans.push(filter);
      const out: Entry[] = [];
      for (const [titleId, title] of Object.entries(world.catalog.titles)) {
        if (filter.titleId !== undefined && filter.titleId !== titleId) continue;
        for (const [type, locales] of Object.entries(title.artwork)) {
          if (filter.type !== undefined && filter.type !== type) continue;
          for (const locale of Object.keys(locales)) {
            if (filter.locale !== undefined && filter.locale !== locale) continue;
            for (const size of ['342x513', '684x1026'])
              out.push({ id: `derivatives/${titleId}-${type}-${locale}-${size}.webp`, filter });
          }
        }
      }
      return out;
    },
    async isStored(entry) {
      calls.checks.push(entry.id);
      return opts.stored?.has(entry.id) ?? false;
    },
    async render(entry) {
      inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (opts.failRender?.(entry.id)) throw new Error('TooManyRequestsException');
      if (opts.refuseRender?.(entry.id)) return { refused: 'SOURCE_NOT_FOUND: the source is missing' };
      calls.renders.push(entry.id);
      return 'rendered';
    },
  };
  return { engine, calls };
}

function recordingLog(): Log & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}

const options = (log: Log, over: Partial<Parameters<typeof consume>[2]> = {}) => ({
  watched,
  concurrency: 3,
  checkConcurrency: 8,
  remainingMs: () => 300_000,
  renderReserveMs: 37_000,
  log,
  ...over,
});

t.test('a new source renders the warm set of the artwork that uses it, and nothing else', async (t) => {
  const { engine, calls } = fakeEngine();
  const out = await consume(
    [s3Record('a', [{ bucket: 'sources', key: 'titles/1/boxshot/en.jpg' }])],
    engine,
    options(recordingLog()),
  );
  t.same(out.batchItemFailures, []);
  t.same(calls.plans, [
    { titleId: '1', type: 'boxshot', locale: 'en' },
    { titleId: '1', type: 'billboard', locale: 'en' },
  ]);
  t.equal(calls.renders.length, 4);
  t.match(out.totals, { records: 1, planned: 4, rendered: 4, stored: 0, failed: 0 });
});

t.test('a catalog change plans everything once, however many records ask', async (t) => {
  const stored = new Set(['derivatives/2-boxshot-en-342x513.webp']);
  const { engine, calls } = fakeEngine({ stored });
  const out = await consume(
    [
      s3Record('a', [{ bucket: 'sources', key: 'catalog.json' }]),
      s3Record('b', [{ bucket: 'sources', key: 'titles/1/boxshot/en.jpg' }]),
      s3Record('c', [{ bucket: 'config', key: 'marquee/rules.yaml' }]),
    ],
    engine,
    options(recordingLog()),
  );
  t.same(out.batchItemFailures, []);
  t.equal(calls.loads, 1, 'rules and catalog loaded once for the batch');
  t.equal(calls.plans.filter((p) => Object.keys(p).length === 0).length, 1, 'the whole warm set planned once');
  // 4 artwork × 2 sizes, one of them already in the store: idempotent, it resumes.
  t.match(out.totals, { planned: 8, stored: 1, rendered: 7 });
  t.equal(new Set(calls.renders).size, calls.renders.length, 'no output rendered twice');
});

t.test('a failed render fails exactly the records that asked for it', async (t) => {
  const { engine } = fakeEngine({ failRender: (id) => id.startsWith('derivatives/2-') });
  const log = recordingLog();
  const out = await consume(
    [
      s3Record('one', [{ bucket: 'sources', key: 'titles/1/boxshot/fr.jpg' }]),
      s3Record('two', [{ bucket: 'sources', key: 'titles/2/boxshot/en.jpg' }]),
      { messageId: 'junk', body: '<xml/>' },
    ],
    engine,
    options(log),
  );
  t.same(out.batchItemFailures, [{ itemIdentifier: 'two' }, { itemIdentifier: 'junk' }]);
  t.match(out.totals, { rendered: 2, failed: 2 });
  t.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'prewarm: render failed'));
  t.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'prewarm: unreadable record'));
});

t.test('rules and catalog that cannot be loaded fail every record with work, not the no-ops', async (t) => {
  const { engine, calls } = fakeEngine({ load: () => Promise.reject(new Error('AccessDenied')) });
  const out = await consume(
    [
      s3Record('a', [{ bucket: 'sources', key: 'catalog.json' }]),
      { messageId: 'test', body: JSON.stringify({ Event: 's3:TestEvent' }) },
    ],
    engine,
    options(recordingLog()),
  );
  t.same(out.batchItemFailures, [{ itemIdentifier: 'a' }]);
  t.equal(calls.renders.length, 0);
});

t.test('a source the catalog does not name yet is done: the catalog event will cover it', async (t) => {
  const { engine, calls } = fakeEngine();
  const log = recordingLog();
  const out = await consume(
    [s3Record('a', [{ bucket: 'sources', key: 'titles/9/boxshot/en.jpg' }])],
    engine,
    options(log),
  );
  t.same(out.batchItemFailures, []);
  t.same(calls.plans, []);
  t.ok(log.lines.some((l) => l.msg === 'prewarm: source not in the catalog yet'));
});

t.test('renders in flight never pass the concurrency the budget gives this consumer', async (t) => {
  const { engine, calls } = fakeEngine();
  const out = await consume(
    [s3Record('a', [{ bucket: 'sources', key: 'catalog.json' }])],
    engine,
    options(recordingLog(), { concurrency: 3 }),
  );
  t.equal(out.totals.rendered, 8);
  t.equal(calls.maxInFlight, 3);
});

t.test('out of time: renders are not started, their records are retried (and resume from the store)', async (t) => {
  const { engine, calls } = fakeEngine();
  let left = 60_000;
  const out = await consume(
    [
      s3Record('early', [{ bucket: 'sources', key: 'titles/2/boxshot/en.jpg' }]),
      s3Record('late', [{ bucket: 'sources', key: 'titles/1/boxshot/fr.jpg' }]),
    ],
    engine,
    options(recordingLog(), {
      concurrency: 1,
      // 10 s go by per render started: the fourth finds less than the reserve left.
      remainingMs: () => {
        const now = left;
        left -= 10_000;
        return now;
      },
      renderReserveMs: 37_000,
    }),
  );
  t.match(out.totals, { rendered: 3, deferred: 1 });
  t.equal(calls.renders.length, out.totals.rendered);
  t.same(out.batchItemFailures, [{ itemIdentifier: 'late' }]);
});

t.test('an image the Generator refuses for good is logged, not retried', async (t) => {
  const { engine } = fakeEngine({ refuseRender: (id) => id.startsWith('derivatives/2-') });
  const log = recordingLog();
  const out = await consume(
    [s3Record('two', [{ bucket: 'sources', key: 'titles/2/boxshot/en.jpg' }])],
    engine,
    options(log),
  );
  t.same(out.batchItemFailures, []);
  t.match(out.totals, { refused: 2, failed: 0, rendered: 0 });
  t.ok(log.lines.some((l) => l.level === 'warn' && l.msg === 'prewarm: the Generator refused it'));
});
