import t from 'tap';
import { runInNewContext } from 'node:vm';
import { ACCEPT_NORMALISER_CODE, NOT_ROUTED_CODE } from '../lib/edge-functions.js';
import { ACCEPT_CASES } from '../../../shared/test/fixtures/accept-cases.js';

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

// Only what the Preprocessor distinguishes survives: AVIF and WebP acceptance (q > 0). The table
// is shared with the origin's own Accept tests, so both read every header alike.
for (const { name, accept, normalised } of ACCEPT_CASES) {
  t.test(`.auto, ${name}: Accept becomes ${normalised}`, async (t) => {
    const out = normalise({ request: request(AUTO, accept) }) as CfRequest;
    t.same(out.headers, { accept: { value: normalised } });
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
