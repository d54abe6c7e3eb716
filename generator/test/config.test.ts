import t from 'tap';
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
  const c = loadConfig({}, {
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
  });
  t.match(c, { region: 'eu-west-1', s3Endpoint: 'http://127.0.0.1:4569', derivativesBucket: 'derived', maxSourceBytes: 1000, maxInputPixels: 2000, fetchTimeoutMs: 300, renderTimeoutMs: 4000, logLevel: 'warn', functionName: 'marquee-generator' });
  t.same([...(c.sourceBuckets ?? [])], ['art', 'badges']);
  t.same([...c.httpAllowedHosts], ['images.example.com', 'cdn.example.com:8443', '[2001:db8::1]:8080']);
  t.same(
    [...loadConfig({ httpAllowedHosts: new Set(['CDN.example.com:08443']) }, {}).httpAllowedHosts],
    ['cdn.example.com:8443'],
    'option entries are normalised too',
  );
  t.equal(loadConfig({ functionName: undefined }, { AWS_LAMBDA_FUNCTION_NAME: 'x' }).functionName, undefined, 'an option wins, even undefined');
  t.equal(loadConfig({ maxSourceBytes: 5 }, { MARQUEE_MAX_SOURCE_BYTES: '1000' }).maxSourceBytes, 5, 'options win over env');
});

t.test('bad values stop start-up with a message naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ MARQUEE_MAX_SOURCE_BYTES: '12MB' }, /MARQUEE_MAX_SOURCE_BYTES: expected a positive integer, got "12MB"/],
    [{ MARQUEE_MAX_INPUT_PIXELS: '0' }, /MARQUEE_MAX_INPUT_PIXELS/],
    [{ MARQUEE_FETCH_TIMEOUT_MS: '-1' }, /MARQUEE_FETCH_TIMEOUT_MS/],
    [{ MARQUEE_RENDER_TIMEOUT_MS: '99999999' }, /MARQUEE_RENDER_TIMEOUT_MS/],
    [{ MARQUEE_S3_ENDPOINT: 'ftp://x' }, /MARQUEE_S3_ENDPOINT: expected an http\(s\) URL/],
    [{ MARQUEE_SOURCE_BUCKETS: 'ok-bucket,Bad_Bucket' }, /MARQUEE_SOURCE_BUCKETS/],
    [{ MARQUEE_DERIVATIVES_BUCKET: 'a-bucket,b-bucket' }, /MARQUEE_DERIVATIVES_BUCKET: expected one bucket name/],
    [{ MARQUEE_HTTP_ALLOWED_HOSTS: 'http://cdn.example.com' }, /MARQUEE_HTTP_ALLOWED_HOSTS: expected host or host:port entries/],
    [{ MARQUEE_HTTP_ALLOWED_HOSTS: 'cdn.example.com:0' }, /MARQUEE_HTTP_ALLOWED_HOSTS: .*got "cdn.example.com:0"/],
    [{ MARQUEE_HTTP_ALLOWED_HOSTS: 'cdn.example.com:99999' }, /MARQUEE_HTTP_ALLOWED_HOSTS/],
    [{ MARQUEE_HTTP_ALLOWED_HOSTS: '2001:db8::1' }, /MARQUEE_HTTP_ALLOWED_HOSTS: expected .*\[v6\]:port/],
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL/],
  ];
  for (const [env, message] of cases) t.throws(() => loadConfig({}, env), message, JSON.stringify(env));
});

t.test('an allowlist option is checked like the variable', async (t) => {
  t.throws(() => loadConfig({ httpAllowedHosts: new Set(['cdn.example.com:x']) }, {}), /httpAllowedHosts: expected host or host:port/);
});
