import t from 'tap';
import { GENERATOR_MEMORY_MIB } from '@marquee/shared';
import { notificationFilters, resolveSettings, settingsFromContext } from '../lib/config.js';

const zip = '/tmp/generator.zip';

t.test('defaults fit image work', async (t) => {
  t.match(resolveSettings({ generatorZip: zip }), {
    generatorZip: zip,
    // The cost estimates price this memory (shared/src/pricing.ts).
    generatorMemoryMiB: GENERATOR_MEMORY_MIB,
    generatorTimeoutSeconds: 30,
    artworkPrefix: 'titles/',
    prewarmShare: 0.2,
    prewarmMaxConcurrency: 10,
    prewarmTimeoutSeconds: 300,
    canaryWeight: 0,
    stableVersion: undefined,
    minTasks: 2,
    maxTasks: 10,
    priceClass: 'PriceClass_100',
  });
});

t.test('context strings become typed settings', async (t) => {
  const context: Record<string, string> = {
    canaryWeight: '0.05',
    stableVersion: '12',
    generatorMemoryMiB: '3008',
    minTasks: '1',
    maxTasks: '4',
    priceClass: 'PriceClass_All',
    originShieldRegion: 'off',
    rules: 's3://cfg-bucket/marquee/rules.yaml',
    prewarmShare: '0.1',
    prewarmTimeoutSeconds: '120',
  };
  t.match(
    settingsFromContext((k) => context[k], zip),
    {
      canaryWeight: 0.05,
      stableVersion: '12',
      generatorMemoryMiB: 3008,
      minTasks: 1,
      maxTasks: 4,
      priceClass: 'PriceClass_All',
      originShieldRegion: false,
      rules: 's3://cfg-bucket/marquee/rules.yaml',
      prewarmShare: 0.1,
      prewarmTimeoutSeconds: 120,
    },
  );
});

// Each bad value stops synth and names the setting, rather than deploying something surprising.
const bad: [setting: string, input: Record<string, unknown>][] = [
  ['canaryWeight', { canaryWeight: 1 }],
  ['canaryWeight', { canaryWeight: -0.1 }],
  ['stableVersion', { canaryWeight: 0.1 }],
  ['stableVersion', { stableVersion: '$LATEST' }],
  ['maxTasks', { minTasks: 5, maxTasks: 3 }],
  ['generatorMemoryMiB', { generatorMemoryMiB: 64 }],
  ['generatorTimeoutSeconds', { generatorTimeoutSeconds: 901 }],
  ['fetchTimeoutMs', { fetchTimeoutMs: 60_000 }],
  ['priceClass', { priceClass: 'PriceClass_1' }],
  ['taskArch', { taskArch: 'arm' }],
  ['rules', { rules: 'config/rules.yaml' }],
  ['originShieldRegion', { originShieldRegion: 'europe' }],
  ['natGateways', { natGateways: 0 }],
  ['artworkPrefix', { artworkPrefix: 'titles' }],
  ['artworkPrefix', { artworkPrefix: '/titles/' }],
  // S3 refuses two notification filters of one event that overlap.
  ['catalogKey', { artworkPrefix: 'titles/', catalogKey: 'titles/catalog.json' }],
  [
    'rules',
    {
      sourcesBucketName: 'acme-sources',
      rules: 's3://acme-sources/catalog.json.d/rules.yaml',
      catalogKey: 'catalog.json',
    },
  ],
  ['prewarmShare', { prewarmShare: 0 }],
  ['prewarmShare', { prewarmShare: 0.6 }],
  // 20 × 0.05 = 1: fewer than the two consumers an SQS mapping runs at least.
  ['prewarmShare', { generatorReservedConcurrency: 20, prewarmShare: 0.05 }],
  ['prewarmMaxConcurrency', { prewarmMaxConcurrency: 1 }],
  // A consumer must outlive one render.
  ['prewarmTimeoutSeconds', { prewarmTimeoutSeconds: 30 }],
  ['prewarmMemoryMiB', { prewarmMemoryMiB: 64 }],
];
for (const [setting, input] of bad) {
  t.test(`refuses ${JSON.stringify(input)}`, async (t) => {
    t.throws(() => resolveSettings({ generatorZip: zip, ...input }), { name: 'SettingsError', setting });
  });
}

t.test('a non-number in context is refused by name', async (t) => {
  t.throws(() => settingsFromContext((k) => (k === 'maxTasks' ? 'ten' : undefined), zip), {
    name: 'SettingsError',
    setting: 'maxTasks',
  });
});

t.test('the rules notify the prewarm queue only when they live in the sources bucket', async (t) => {
  const at = (input: Record<string, unknown>) => notificationFilters(resolveSettings({ generatorZip: zip, ...input }));
  t.same(at({}), { artworkPrefix: 'titles/', keys: ['catalog.json'] });
  t.same(at({ rules: 's3://elsewhere/rules.yaml' }).keys, ['catalog.json']);
  t.same(at({ sourcesBucketName: 'acme-sources', rules: 's3://acme-sources/config/rules.yaml' }).keys, [
    'catalog.json',
    'config/rules.yaml',
  ]);
});
