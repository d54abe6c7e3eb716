import { readFile } from 'node:fs/promises';
import t from 'tap';
import { describeEnv } from '@marquee/shared';
import { ConfigError, PreprocessorEnv, loadConfig, unknownEnv } from '../src/config.js';

t.test('secrets: generated locally and flagged; refused in production', async (t) => {
  const local = loadConfig({}, {});
  t.same(local.generated, { signingKey: true, studioToken: true });
  const half = loadConfig({}, { MARQUEE_STUDIO_TOKEN: 'a-configured-token' });
  // Regression (review finding): a configured token was printed when only the key was generated.
  t.same(half.generated, { signingKey: true, studioToken: false });
  t.throws(() => loadConfig({}, { NODE_ENV: 'production', MARQUEE_STUDIO_TOKEN: 'a-configured-token' }), ConfigError);
  const prod = loadConfig(
    {},
    { NODE_ENV: 'production', MARQUEE_STUDIO_TOKEN: 'a-configured-token', MARQUEE_SIGNING_KEY: 'k'.repeat(32) },
  );
  t.equal(prod.studioSecureCookie, true, 'production cookies are Secure');
});

t.test('bad values stop start-up naming the variable', async (t) => {
  const cases: Array<[string, string]> = [
    ['PORT', 'eighty'],
    ['MARQUEE_MAX_INFLIGHT', '0'],
    ['MARQUEE_CACHE_MAX_ENTRY_BYTES', '0'],
    ['MARQUEE_STUDIO_SECURE_COOKIE', 'yes'],
    ['MARQUEE_SIGNING_KEY', 'short'],
  ];
  for (const [name, value] of cases)
    t.throws(() => loadConfig({}, { [name]: value }), { message: new RegExp(name) }, name);
});

t.test('one line per bad variable, all at once, secrets never echoed', async (t) => {
  const err = t.throws(() =>
    loadConfig(
      {},
      {
        NODE_ENV: 'production',
        PORT: ' 80',
        MARQUEE_MAX_INFLIGHT: '-3',
        MARQUEE_CACHE_BYTES: '1e9',
        MARQUEE_STUDIO_SECURE_COOKIE: 'yes',
        MARQUEE_LAMBDA_ENDPOINT: 'localhost:9001',
        MARQUEE_STUDIO_TOKEN: 'hunter2',
      },
    ),
  ) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.same(err.problems, [
    'PORT must be an integer from 0 to 65535, got " 80"',
    'MARQUEE_LAMBDA_ENDPOINT must be an http(s) URL, got "localhost:9001"',
    'MARQUEE_MAX_INFLIGHT must be an integer from 1 to 10000, got "-3"',
    'MARQUEE_CACHE_BYTES must be an integer from 0 to 68719476736, got "1e9"',
    'MARQUEE_STUDIO_TOKEN must be at least 12 characters, got 7 characters (not shown)',
    'MARQUEE_STUDIO_SECURE_COOKIE must be true, false, 1 or 0, got "yes"',
    'MARQUEE_SIGNING_KEY must be set when NODE_ENV=production',
  ]);
  t.equal(err.message, err.problems.join('\n'), 'the message prints as-is');
  t.notMatch(err.message, /hunter2/);
});

t.test('values: environment, then options; empty is unset', async (t) => {
  const c = loadConfig(
    { generator: { maxQueue: 5 } },
    {
      PORT: '0',
      MARQUEE_MAX_INFLIGHT: '4',
      MARQUEE_MAX_QUEUE: '9',
      MARQUEE_STUDIO_SECURE_COOKIE: '1',
      MARQUEE_DERIVATIVES_BUCKET: '',
      LOG_LEVEL: 'debug',
    },
  );
  t.match(c, {
    port: 0,
    logLevel: 'debug',
    studioSecureCookie: true,
    derivativesBucket: undefined,
    generator: { maxInFlight: 4, maxQueue: 5, timeoutMs: 25_000 },
  });
  t.throws(
    () => loadConfig({ signingKey: 'short' }, {}),
    /^signingKey must be at least 16 characters$/,
    'an option is held to the same bound',
  );
  t.same(
    loadConfig({ signingKey: 'k'.repeat(16) }, {}).generated,
    { signingKey: false, studioToken: true },
    'a key given as an option is not generated',
  );
});

t.test('unknown MARQUEE_* variables are listed for a warning, not refused', async (t) => {
  const env = { MARQUEE_MAX_INFLIGT: '4', MARQUEE_MAX_INFLIGHT: '4', HOME: '/root' };
  t.same(unknownEnv(env), ['MARQUEE_MAX_INFLIGT']);
  t.equal(loadConfig({}, env).generator.maxInFlight, 4);
});

t.test('every variable has a row in the README', async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const from = readme.indexOf('Preprocessor:', readme.indexOf('## Configuration'));
  const table = readme.slice(from, readme.indexOf('\n\n', readme.indexOf('| variable |', from)));
  t.ok(from >= 0, 'the README has the Preprocessor table');
  // NODE_ENV is named in the secrets' row (`NODE_ENV=production`).
  for (const { name } of describeEnv(PreprocessorEnv)) t.match(table, new RegExp(`\`${name}[\`=]`), name);
});
