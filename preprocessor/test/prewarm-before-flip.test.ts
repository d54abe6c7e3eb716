import t from 'tap';
import { ConfigError } from '@marquee/shared';
import { loadConfig } from '../src/config.js';
import { prewarmBeforeFlip, timeLeft } from '../src/prewarm/before-flip.js';
import type { Prewarmer, RunOptions } from '../src/prewarm/engine.js';
import { localPrewarmConcurrency, localStack, withLocalStack } from '../src/prewarm/local-stack.js';
import { changedImages } from '../src/prewarm/rules-change.js';
import type { WarmEntry } from '../src/prewarm/warm-set.js';
import { diffRules } from '../src/rules/diff.js';
import type { Rules } from '../src/rules/schema.js';
import { SOURCES_BUCKET, defaultCatalog, defaultRules } from './rules/fixtures.js';

/** The shipped rules with the boxshot's WebP at quality 30: every boxshot WebP URL changes. */
const next: Rules = structuredClone(defaultRules);
const boxshot = next.types.boxshot as { encoding?: Record<string, unknown> };
boxshot.encoding = { ...boxshot.encoding, webp: { quality: 30 } };
const diff = diffRules({ current: defaultRules, next, catalog: defaultCatalog, sourcesBucket: SOURCES_BUCKET });
const request = {
  rules: next,
  previous: defaultRules,
  catalog: defaultCatalog,
  paths: [...diff.changedPaths, ...diff.addedPaths],
  reason: 'test',
};

/** A prewarmer that fails the images `fails` names (code THROTTLED) and renders the rest. */
function fakePrewarmer(fails: (entry: WarmEntry) => boolean): Pick<Prewarmer, 'run'> & { seen: WarmEntry[] } {
  const seen: WarmEntry[] = [];
  return {
    seen,
    run(entries: readonly WarmEntry[], options: RunOptions) {
      seen.push(...entries);
      let failed = 0;
      for (const entry of entries) {
        if (fails(entry)) {
          failed++;
          options.onFailure?.(entry, 'THROTTLED');
        }
      }
      return Promise.resolve({ total: entries.length, rendered: entries.length - failed, skipped: 0, failed, ms: 10 });
    },
  };
}

t.test('every changed image stored: no URL renders live', async (t) => {
  const prewarmer = fakePrewarmer(() => false);
  const outcome = await prewarmBeforeFlip(prewarmer, request, { set: 'changed', sourcesBucket: SOURCES_BUCKET });
  t.ok(diff.changed > 0);
  t.equal(outcome.urls, diff.changed);
  t.equal(outcome.liveUrls, 0);
  t.equal(outcome.images, changedImages(defaultRules, next, defaultCatalog, SOURCES_BUCKET).length);
  t.ok(
    prewarmer.seen.every((e) => e.type === 'boxshot' && e.format === 'webp'),
    'only the boxshot WebP images',
  );
});

// A failed render is a URL that renders live: the report must say so, by code.
t.test('a failed image: its URLs render live, the failure counted by code', async (t) => {
  const victim = changedImages(defaultRules, next, defaultCatalog, SOURCES_BUCKET)[0]!;
  const outcome = await prewarmBeforeFlip(
    fakePrewarmer((e) => e.key === victim.key),
    request,
    { set: 'changed', sourcesBucket: SOURCES_BUCKET },
  );
  t.equal(outcome.failed, 1);
  t.same(outcome.failures, { THROTTLED: 1 });
  t.ok(outcome.liveUrls >= 1, `${outcome.liveUrls} URLs serve the failed image`);
  t.ok(outcome.liveUrls < outcome.urls);
});

t.test("the rules' prewarm set leaves the rest of the changed URLs to live renders", async (t) => {
  const outcome = await prewarmBeforeFlip(
    fakePrewarmer(() => false),
    request,
    {
      set: 'prewarm-set',
      sourcesBucket: SOURCES_BUCKET,
    },
  );
  const all = changedImages(defaultRules, next, defaultCatalog, SOURCES_BUCKET).length;
  t.ok(outcome.images < all, `${outcome.images} of ${all} images`);
  t.ok(outcome.liveUrls > 0, `${outcome.liveUrls} URLs render live`);
});

t.test('timeLeft: from the pace so far', async (t) => {
  t.equal(timeLeft({ done: 0, total: 10, ms: 0 }), '');
  t.equal(timeLeft({ done: 5, total: 10, ms: 10_000 }), '~10 s left');
  t.equal(timeLeft({ done: 10, total: 10, ms: 20_000 }), '');
});

t.test('--local: the stack found from its own variables, what the operator set stands', async (t) => {
  const local = localStack({ MARQUEE_LOCAL_S3_PORT: '5001', PORT: '7000', MARQUEE_LOCAL_LAMBDA_CONCURRENCY: '8' });
  t.equal(local.s3Endpoint, 'http://127.0.0.1:5001');
  t.equal(local.lambdaEndpoint, 'http://127.0.0.1:9001', 'a default');
  t.equal(local.preprocessor, 'http://127.0.0.1:7000');
  t.equal(local.cdn, 'http://127.0.0.1:8081');
  t.throws(() => localStack({ MARQUEE_LOCAL_S3_PORT: 'x' }), ConfigError);

  const base = loadConfig({}, {});
  const config = withLocalStack(base, local);
  t.equal(config.s3Endpoint, local.s3Endpoint);
  t.equal(config.generator.endpoint, local.lambdaEndpoint);
  t.equal(config.derivativesBucket, 'marquee-derivatives');
  t.equal(config.rules, local.rules, 'the stack’s rules, not the shipped file');
  const own = withLocalStack(
    loadConfig({}, { MARQUEE_S3_ENDPOINT: 'http://s3.example:1', MARQUEE_RULES: 'r.yaml' }),
    local,
  );
  t.equal(own.s3Endpoint, 'http://s3.example:1');
  t.equal(own.rules, 'r.yaml');
  // The prewarm share (0.25 by default) of the stack's 8 environments.
  t.equal(localPrewarmConcurrency(local, config), 2);
  t.equal(localPrewarmConcurrency(localStack({}), config), 1, 'at least one');
});
