import { readFile } from 'node:fs/promises';
import t from 'tap';
import { describeEnv, type ConfigError } from '@marquee/shared';
import { GeneratorEnv } from '../src/config.js';
import { DEFAULT_MAX_INPUT_PIXELS, DEFAULT_MAX_SOURCE_BYTES, loadConfig } from '../src/index.js';

t.test('defaults', async (t) => {
  const c = loadConfig({}, {});
  t.match(c, {
    region: 'us-east-1',
    s3Endpoint: undefined,
    sourceBuckets: undefined,
    derivativesBucket: undefined,
    maxSourceBytes: DEFAULT_MAX_SOURCE_BYTES,
    maxInputPixels: DEFAULT_MAX_INPUT_PIXELS,
    fetchTimeoutMs: 5000,
    renderTimeoutMs: 20000,
    logLevel: 'info',
    functionName: undefined,
  });
  t.equal(c.httpAllowedHosts.size, 0, 'HTTP sources off by default');
});

t.test('environment', async (t) => {
  const c = loadConfig(
    {},
    {
      AWS_REGION: 'eu-west-1',
      MARQUEE_S3_ENDPOINT: 'http://127.0.0.1:4569',
      MARQUEE_SOURCE_BUCKETS: 'art, badges',
      MARQUEE_DERIVATIVES_BUCKET: 'derived',
      MARQUEE_HTTP_ALLOWED_HOSTS: 'Images.Example.com,cdn.example.com:8443, [2001:DB8::1]:8080',
      MARQUEE_MAX_SOURCE_BYTES: '1000',
      MARQUEE_MAX_INPUT_PIXELS: '2000',
      MARQUEE_FETCH_TIMEOUT_MS: '300',
      MARQUEE_RENDER_TIMEOUT_MS: '4000',
      LOG_LEVEL: 'warn',
      AWS_LAMBDA_FUNCTION_NAME: 'marquee-generator',
    },
  );
  t.match(c, {
    region: 'eu-west-1',
    s3Endpoint: 'http://127.0.0.1:4569',
    derivativesBucket: 'derived',
    maxSourceBytes: 1000,
    maxInputPixels: 2000,
    fetchTimeoutMs: 300,
    renderTimeoutMs: 4000,
    logLevel: 'warn',
    functionName: 'marquee-generator',
  });
  t.same([...(c.sourceBuckets ?? [])], ['art', 'badges']);
  t.same([...c.httpAllowedHosts], ['images.example.com', 'cdn.example.com:8443', '[2001:db8::1]:8080']);
  t.same(
    [...loadConfig({ httpAllowedHosts: new Set(['CDN.example.com:08443']) }, {}).httpAllowedHosts],
    ['cdn.example.com:8443'],
    'option entries are normalised too',
  );
  t.equal(
    loadConfig({ functionName: undefined }, { AWS_LAMBDA_FUNCTION_NAME: 'x' }).functionName,
    undefined,
    'an option wins, even undefined',
  );
  t.equal(
    loadConfig({ maxSourceBytes: 5 }, { MARQUEE_MAX_SOURCE_BYTES: '1000' }).maxSourceBytes,
    5,
    'options win over env',
  );
});

t.test('bad values stop start-up with one line per variable, naming it, what was expected and what came', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ MARQUEE_MAX_SOURCE_BYTES: '12MB' }, /^MARQUEE_MAX_SOURCE_BYTES must be an integer ≥ 1, got "12MB"$/],
    [{ MARQUEE_MAX_SOURCE_BYTES: ' 1000' }, /^MARQUEE_MAX_SOURCE_BYTES must be an integer ≥ 1, got " 1000"$/],
    [{ MARQUEE_MAX_SOURCE_BYTES: '1e6' }, /^MARQUEE_MAX_SOURCE_BYTES must be an integer ≥ 1, got "1e6"$/],
    [{ MARQUEE_MAX_INPUT_PIXELS: '0' }, /^MARQUEE_MAX_INPUT_PIXELS must be an integer ≥ 1, got "0"$/],
    [{ MARQUEE_FETCH_TIMEOUT_MS: '-1' }, /^MARQUEE_FETCH_TIMEOUT_MS must be an integer ≥ 1, got "-1"$/],
    [
      { MARQUEE_RENDER_TIMEOUT_MS: '99999999' },
      /^MARQUEE_RENDER_TIMEOUT_MS must be an integer from 1 to 3600000, got "99999999"$/,
    ],
    [{ MARQUEE_S3_ENDPOINT: 'ftp://x' }, /^MARQUEE_S3_ENDPOINT must be an http\(s\) URL, got "ftp:\/\/x"$/],
    [
      { MARQUEE_SOURCE_BUCKETS: 'ok-bucket,Bad_Bucket' },
      /^MARQUEE_SOURCE_BUCKETS must be .*S3 bucket name, got "Bad_Bucket" in "ok-bucket,Bad_Bucket"$/,
    ],
    [
      { MARQUEE_DERIVATIVES_BUCKET: 'a-bucket,b-bucket' },
      /^MARQUEE_DERIVATIVES_BUCKET must be an S3 bucket name, got "a-bucket,b-bucket"$/,
    ],
    [
      { MARQUEE_HTTP_ALLOWED_HOSTS: 'http://cdn.example.com' },
      /^MARQUEE_HTTP_ALLOWED_HOSTS must be host or host:port entries/,
    ],
    [
      { MARQUEE_HTTP_ALLOWED_HOSTS: 'cdn.example.com:0' },
      /^MARQUEE_HTTP_ALLOWED_HOSTS must be .*got "cdn.example.com:0"$/,
    ],
    [{ MARQUEE_HTTP_ALLOWED_HOSTS: 'cdn.example.com:99999' }, /^MARQUEE_HTTP_ALLOWED_HOSTS/],
    [{ MARQUEE_HTTP_ALLOWED_HOSTS: '2001:db8::1' }, /^MARQUEE_HTTP_ALLOWED_HOSTS must be .*\[v6\]:port/],
    [
      { LOG_LEVEL: 'verbose' },
      /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/,
    ],
  ];
  for (const [env, message] of cases)
    t.throws(() => loadConfig({}, env), { name: 'ConfigError', message }, JSON.stringify(env));
});

t.test('every bad variable is reported at once', async (t) => {
  const err = t.throws(() =>
    loadConfig({}, { MARQUEE_MAX_SOURCE_BYTES: '12MB', LOG_LEVEL: 'verbose', MARQUEE_FETCH_TIMEOUT_MS: '5000' }),
  ) as ConfigError;
  t.same(
    err.problems.map((line) => line.split(' ')[0]),
    ['LOG_LEVEL', 'MARQUEE_MAX_SOURCE_BYTES'],
  );
});

t.test('an allowlist option is checked like the variable', async (t) => {
  t.throws(
    () => loadConfig({ httpAllowedHosts: new Set(['cdn.example.com:x']) }, {}),
    /^httpAllowedHosts must be host or host:port .*got "cdn.example.com:x"$/,
  );
});

t.test('every variable has a row in the README', async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const from = readme.indexOf('Generator (Lambda environment):');
  const table = readme.slice(from, readme.indexOf('\n\n', readme.indexOf('| variable |', from)));
  t.ok(from >= 0, 'the README has the Generator table');
  for (const { name } of describeEnv(GeneratorEnv)) t.match(table, new RegExp(`\`${name}\``), name);
});
