import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { derivativeKey } from '@marquee/shared';
import { createEngine } from '../prewarm-consumer/engine.js';
import type { ConsumerEnv } from '../prewarm-consumer/env.js';
import { planner } from '../prewarm-consumer/planner.js';
import { REPO_ROOT } from './fixture.js';

// Issue 19: the consumer read its documents with a loader of its own beside the Preprocessor's
// (`rules/source.ts`); it now uses that one. Files stand in for the S3 objects (the rules baked
// into the bundle are a file): no network.

t.test(
  'the consumer loads rules and catalog through the Preprocessor reader, again only when they change',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'marquee-consumer-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const rules = join(dir, 'rules.yaml');
    const catalog = join(dir, 'catalog.json');
    writeFileSync(rules, readFileSync(join(REPO_ROOT, 'preprocessor/config/rules.yaml')));
    const doc = { version: 1, titles: {} as Record<string, unknown> };
    writeFileSync(catalog, JSON.stringify(doc));
    const env = {
      MARQUEE_RULES: rules,
      MARQUEE_CATALOG: catalog,
      MARQUEE_SOURCES_BUCKET: 'marquee-sources',
      MARQUEE_DERIVATIVES_BUCKET: 'marquee-derivatives',
      MARQUEE_ARTWORK_PREFIX: 'titles/',
      MARQUEE_GENERATOR_FUNCTION: 'marquee-generator',
      MARQUEE_GENERATOR_QUALIFIER: 'live',
      MARQUEE_GENERATOR_TIMEOUT_MS: 1000,
      MARQUEE_PREWARM_CONCURRENCY: 1,
      LOG_LEVEL: 'info',
    } as ConsumerEnv;
    const loaded: unknown[] = [];
    const log = { info: (o: unknown) => loaded.push(o), warn: () => {}, error: () => {} };
    const engine = createEngine(env, log as never, planner);
    const first = await engine.load();
    t.same(Object.keys(first.catalog.titles), []);
    await engine.load();
    t.equal(loaded.length, 1, 'an unchanged pair is not parsed or logged again');
    doc.titles['7'] = {
      name: 'Seven',
      artwork: { boxshot: { en: { source: 'titles/7/boxshot/en.jpg', version: '1' } } },
    };
    writeFileSync(catalog, JSON.stringify(doc));
    const second = await engine.load();
    t.equal(loaded.length, 2, 'a changed catalog is read again');
    t.same(Object.keys(second.catalog.titles), ['7']);
    const planned = engine.plan(second, { titleId: '7' });
    for (const entry of planned) t.equal(entry.id, derivativeKey(entry.render.key, entry.render.spec.format));
  },
);
