import t from 'tap';
import type { Problem } from '../../src/plugins/problem.js';
import { Value } from '@sinclair/typebox/value';
import { StudioCatalogSchema, type StudioCatalog } from '@marquee/shared';
import { listTypes } from '../../src/rules/resolve.js';
import { mintSession, sessionKey } from '../../src/studio/session.js';
import { SIGNING_KEY, STUDIO_TOKEN, bearer, startHarness } from './harness.js';

const h = await startHarness();
t.teardown(() => h.close());
const { app } = h;

function cookieFrom(setCookie: string | string[] | number | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : String(setCookie);
  return header?.split(';')[0] ?? '';
}

t.test('GET /studio without a session: 401 sign-in form, nothing from the catalog', async (t) => {
  for (const headers of [
    {},
    { authorization: 'Bearer not-the-token-at-all' },
    { cookie: 'marquee_studio=v1.9999999999.abc.def' },
  ]) {
    const res = await app.inject({ method: 'GET', url: '/studio', headers });
    t.equal(res.statusCode, 401);
    t.match(res.headers['content-type'], /^text\/html/);
    t.equal(res.headers['cache-control'], 'private, no-store');
    t.match(res.body, /<form method="post" action="\/studio\/session">/);
    t.notMatch(res.body, /Test Title|boxshot|<script/);
  }
});

t.test('the API needs the token: 401 problem+json without it or with a wrong one', async (t) => {
  const cases = [
    { name: 'none', headers: {} },
    { name: 'wrong bearer', headers: { authorization: `Bearer ${STUDIO_TOKEN}x` } },
    { name: 'empty bearer', headers: { authorization: 'Bearer ' } },
    { name: 'token as a cookie', headers: { cookie: `marquee_studio=${STUDIO_TOKEN}` } },
  ];
  for (const c of cases) {
    for (const url of ['/studio/api/catalog', '/studio/assets/app.js']) {
      const res = await app.inject({ method: 'GET', url, headers: c.headers });
      t.equal(res.statusCode, 401, `${c.name} ${url}`);
      t.equal(res.json<Problem>().code, 'UNAUTHORIZED');
      t.match(res.headers['www-authenticate'], /^Bearer/);
    }
  }
  const sign = await app.inject({ method: 'POST', url: '/studio/api/sign', payload: { renders: [] } });
  t.equal(sign.statusCode, 401, 'auth is checked before the body');
});

t.test('a bearer token opens the API', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/studio/api/catalog', headers: bearer });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'private, no-store');
  const body = res.json<StudioCatalog>();
  t.equal(body.defaultLocale, 'en');
  t.match(body.titles, [{ id: 't1', name: 'The Test Title', artwork: { boxshot: { en: { version: '3' } } } }]);
  const boxshot = body.types.find((x) => x.name === 'boxshot');
  t.ok((boxshot?.sizes.length ?? 0) > 0, 'the current rules sizes come along');
  t.ok(Value.Check(StudioCatalogSchema, body), 'the reply matches the shared StudioCatalog schema');
  t.same(
    body.types,
    listTypes(app.rulesPoller.current().rules).map(({ type, ...rest }) => ({ name: type, ...rest })),
    'every type with every field the rules list (renders, enlarge …): the reply schema drops none',
  );
});

t.test('sign-in form: wrong token 401 page, right token 303 and a strict session cookie', async (t) => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const wrong = await app.inject({
    method: 'POST',
    url: '/studio/session',
    headers: form,
    payload: 'token=nope-nope-nope',
  });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.body, /not valid/);
  t.notOk(wrong.headers['set-cookie']);

  const right = await app.inject({
    method: 'POST',
    url: '/studio/session',
    headers: form,
    payload: new URLSearchParams({ token: STUDIO_TOKEN }).toString(),
  });
  t.equal(right.statusCode, 303);
  t.equal(right.headers.location, '/studio');
  const setCookie = String(right.headers['set-cookie']);
  t.match(setCookie, /^marquee_studio=v1\./);
  t.match(setCookie, /HttpOnly/);
  t.match(setCookie, /SameSite=Strict/);
  t.match(setCookie, /Path=\/studio(;|$)/);
  const cookie = cookieFrom(right.headers['set-cookie']);

  const page = await app.inject({ method: 'GET', url: '/studio', headers: { cookie } });
  t.equal(page.statusCode, 200);
  t.match(page.body, /src="\/studio\/assets\/app\.js"/);
  t.match(page.headers['content-security-policy'], /script-src 'self'/);
  const api = await app.inject({
    method: 'GET',
    url: '/studio/api/catalog',
    headers: { cookie: `other=1; ${cookie}` },
  });
  t.equal(api.statusCode, 200);
});

t.test('behind a TLS-terminating proxy the cookie is Secure', async (t) => {
  const res = await app.inject({
    method: 'POST',
    url: '/studio/session',
    headers: { 'x-forwarded-proto': 'https' },
    payload: { token: STUDIO_TOKEN },
  });
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['set-cookie']), /; Secure/);
});

t.test('JSON sign-in, and sign-out clears the cookie', async (t) => {
  const wrong = await app.inject({ method: 'POST', url: '/studio/session', payload: { token: 'wrong-wrong-wrong' } });
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json<Problem>().code, 'UNAUTHORIZED');
  const right = await app.inject({ method: 'POST', url: '/studio/session', payload: { token: STUDIO_TOKEN } });
  t.equal(right.statusCode, 200);
  t.ok(right.json<{ expiresAt: string }>().expiresAt);
  const out = await app.inject({ method: 'DELETE', url: '/studio/session' });
  t.equal(out.statusCode, 204);
  t.match(String(out.headers['set-cookie']), /^marquee_studio=;.*Max-Age=0/);
});

t.test('tampered, expired or foreign-key sessions are refused', async (t) => {
  const key = sessionKey(SIGNING_KEY, STUDIO_TOKEN);
  const good = mintSession(key).value;
  const tampered = good.replace(/^v1\.(\d+)/, (_, exp: string) => `v1.${Number(exp) + 1}`);
  const expired = mintSession(key, Date.now() - 9 * 3600 * 1000).value;
  // A token rotation changes the key: older sessions end with it.
  const rotated = mintSession(sessionKey(SIGNING_KEY, 'an-older-studio-token')).value;
  const ok = await app.inject({
    method: 'GET',
    url: '/studio/api/catalog',
    headers: { cookie: `marquee_studio=${good}` },
  });
  t.equal(ok.statusCode, 200, 'control: a fresh session works');
  for (const [name, value] of Object.entries({ tampered, expired, rotated })) {
    const res = await app.inject({
      method: 'GET',
      url: '/studio/api/catalog',
      headers: { cookie: `marquee_studio=${value}` },
    });
    t.equal(res.statusCode, 401, name);
  }
});

t.test('the UI bundle is served to a signed-in browser', async (t) => {
  const js = await app.inject({ method: 'GET', url: '/studio/assets/app.js', headers: bearer });
  t.equal(js.statusCode, 200);
  t.match(js.headers['content-type'], /^text\/javascript/);
  t.ok(js.body.length > 1000);
  const css = await app.inject({ method: 'GET', url: '/studio/assets/app.css', headers: bearer });
  t.equal(css.statusCode, 200);
  const other = await app.inject({ method: 'GET', url: '/studio/assets/..%2Fconfig.js', headers: bearer });
  t.equal(other.statusCode, 400);
});

t.test('the favicon: served to anyone (the sign-in page shows it), linked from both pages', async (t) => {
  const icon = await app.inject({ method: 'GET', url: '/studio/favicon.svg' });
  t.equal(icon.statusCode, 200);
  t.match(icon.headers['content-type'], /^image\/svg\+xml/);
  t.match(icon.body, /^<svg /);
  const prompt = await app.inject({ method: 'GET', url: '/studio' });
  t.match(prompt.body, /<link rel="icon" type="image\/svg\+xml" href="\/studio\/favicon\.svg">/);
  t.match(prompt.headers['content-security-policy'], /img-src 'self'/, 'the sign-in page may load it');
  const page = await app.inject({ method: 'GET', url: '/studio', headers: bearer });
  t.match(page.body, /href="\/studio\/favicon\.svg"/);
});
