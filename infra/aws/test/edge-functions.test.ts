import t from 'tap';
import { runInNewContext } from 'node:vm';
import { ACCEPT_NORMALISER_CODE, NOT_ROUTED_CODE } from '../lib/edge-functions.js';

interface CfRequest {
  uri: string;
  headers: Record<string, { value: string }>;
}
type Handler = (event: { request: CfRequest }) => unknown;

/** Loads the function source the way CloudFront does: a script that defines `handler`. */
function load(code: string): Handler {
  return runInNewContext(`${code}\nhandler;`, {}) as Handler;
}
const normalise = load(ACCEPT_NORMALISER_CODE);
const request = (uri: string, accept?: string): CfRequest => ({
  uri,
  headers: accept === undefined ? {} : { accept: { value: accept } },
});
const AUTO = '/v1/artwork/boxshot/80057281/342x192@2x.auto';

// Only what the Preprocessor distinguishes survives: AVIF and WebP acceptance (q > 0).
const cases: [name: string, accept: string | undefined, expected: string][] = [
  ['Chrome', 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', 'image/avif,image/webp'],
  ['Firefox', 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', 'image/avif,image/webp'],
  ['older Safari', 'image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5', 'image/webp'],
  ['curl', '*/*', 'image/jpeg'],
  ['no header', undefined, 'image/jpeg'],
  ['upper case', 'IMAGE/AVIF', 'image/avif'],
  ['jpeg only', 'image/jpeg', 'image/jpeg'],
  // Regression (review finding): a refused format (q=0) was still chosen by substring.
  ['avif refused', 'image/avif;q=0,image/webp', 'image/webp'],
  ['webp refused, spaces', 'image/avif, image/webp ; q=0', 'image/avif'],
  ['both refused', 'image/avif;q=0, image/webp;q=0.0, */*', 'image/jpeg'],
];
for (const [name, accept, expected] of cases) {
  t.test(`.auto, ${name}: Accept becomes ${expected}`, async (t) => {
    const out = normalise({ request: request(AUTO, accept) }) as CfRequest;
    t.same(out.headers, { accept: { value: expected } });
    t.equal(out.uri, AUTO, 'the URI is untouched');
  });
}

t.test('an explicit extension drops Accept: one cache entry per URL', async (t) => {
  for (const ext of ['jpg', 'png', 'webp', 'avif']) {
    const uri = `/v1/artwork/boxshot/80057281/342x192.${ext}`;
    const out = normalise({ request: request(uri, 'image/avif,image/webp,*/*') }) as CfRequest;
    t.same(out.headers, {}, ext);
  }
});

t.test('the other headers pass through', async (t) => {
  const req: CfRequest = { uri: AUTO, headers: { accept: { value: '*/*' }, 'if-none-match': { value: '"abc"' } } };
  const out = normalise({ request: req }) as CfRequest;
  t.same(out.headers['if-none-match'], { value: '"abc"' });
});

t.test('the not-routed function answers 404, no-store, without calling the origin', async (t) => {
  const out = load(NOT_ROUTED_CODE)({ request: request('/metrics') });
  t.match(out, { statusCode: 404, headers: { 'cache-control': { value: 'no-store' } } });
});

t.test('the code stays within what cloudfront-js-2.0 parses (no modules, no Node globals)', async (t) => {
  for (const code of [ACCEPT_NORMALISER_CODE, NOT_ROUTED_CODE]) {
    t.notMatch(code, /\b(import|export|require|process|Buffer)\b/);
    t.ok(Buffer.byteLength(code) < 10 * 1024, 'under the 10 KB function size limit');
  }
});
