import t from 'tap';
import { resolveSettings, settingsFromContext } from '../lib/config.js';

const zip = '/tmp/generator.zip';

t.test('defaults fit image work', async (t) => {
  t.match(resolveSettings({ generatorZip: zip }), {
    generatorZip: zip,
    generatorMemoryMiB: 2048,
    generatorTimeoutSeconds: 30,
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
