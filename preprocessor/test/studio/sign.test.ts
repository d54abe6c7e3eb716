import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { SignReplySchema, type SignReply } from '@marquee/shared';
import { signUrl } from '../../src/signing.js';
import type { Problem } from '../../src/plugins/problem.js';
import { PUBLISHED_KEY, SIGNING_KEY, bearer, startHarness } from './harness.js';

const h = await startHarness();
t.teardown(() => h.close());
const { app } = h;

const STAGED = 'staging/0123456789abcdef0123456789abcdef.png';

/** What POST /studio/api/sign answers: each render as signed, with its signed URL. */
type Signed = SignReply;

async function sign(renders: unknown[]) {
  return app.inject({ method: 'POST', url: '/studio/api/sign', headers: bearer, payload: { renders } });
}

t.test('signs catalog sources and staging uploads with an expiry', async (t) => {
  const res = await sign([
    { src: PUBLISHED_KEY, w: 342, h: 513, fmt: 'webp', fx: 0.25, fy: 0.123456 },
    { src: STAGED, w: 300, h: 450 },
  ]);
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'private, no-store');
  const body = res.json<Signed>();
  t.ok(Date.parse(body.expiresAt) > Date.now());
  const [first, second] = body.renders.map((r) => new URL(r.url, 'http://x'));
  t.equal(first?.pathname, '/v1/render');
  t.equal(first?.searchParams.get('src'), PUBLISHED_KEY);
  t.equal(first?.searchParams.get('v'), '3', 'the catalog version busts caches');
  t.equal(first?.searchParams.get('fy'), '0.1235', 'focal points are rounded');
  t.match(first?.searchParams.get('sig'), /^[A-Za-z0-9_-]{43}$/);
  t.ok(Number(first?.searchParams.get('exp')) * 1000 > Date.now());
  t.equal(second?.searchParams.get('src'), STAGED);
  t.ok(Value.Check(SignReplySchema, body), 'the reply matches the shared SignReply schema');
  const { url: _first, ...firstAsSigned } = body.renders[0]!;
  t.same(firstAsSigned, { src: PUBLISHED_KEY, w: 342, h: 513, fmt: 'webp', fx: 0.25, fy: 0.1235 }, 'as signed');
});

t.test('refuses what it should not sign', async (t) => {
  const cases = [
    { name: 'unpublished key', renders: [{ src: 'titles/t2/secret.jpg', w: 10, h: 10 }], status: 403 },
    {
      name: 'staging look-alike',
      renders: [{ src: 'staging/../titles/t1/boxshot/en.jpg', w: 10, h: 10 }],
      status: 403,
    },
    { name: 'fx without fy', renders: [{ src: PUBLISHED_KEY, w: 10, h: 10, fx: 0.5 }], status: 400 },
    { name: 'too wide', renders: [{ src: PUBLISHED_KEY, w: 100_000, h: 10 }], status: 400 },
    { name: 'bad format', renders: [{ src: PUBLISHED_KEY, w: 10, h: 10, fmt: 'gif' }], status: 400 },
    { name: 'empty list', renders: [], status: 400 },
    {
      name: 'too many',
      renders: Array.from({ length: 97 }, () => ({ src: PUBLISHED_KEY, w: 10, h: 10 })),
      status: 400,
    },
  ];
  for (const c of cases) {
    const res = await sign(c.renders);
    t.equal(res.statusCode, c.status, c.name);
    t.match(res.headers['content-type'], /problem\+json/);
  }
});

t.test('/v1/render checks the signature: valid passes, tampered, unsigned and expired get 403', async (t) => {
  const res = await sign([{ src: PUBLISHED_KEY, w: 342, h: 513, fmt: 'jpeg' }]);
  const url = res.json<Signed>().renders[0]!.url;

  // No Generator runs here: a request past the signature check fails upstream, never with 403.
  const valid = await app.inject({ method: 'GET', url });
  t.not(valid.statusCode, 403, 'a signed URL passes the signature check');
  t.ok(valid.statusCode >= 500, `and reaches the Generator step (${valid.statusCode})`);

  const parsed = new URL(url, 'http://x');
  const tamper = (name: string, value: string) => {
    const copy = new URL(parsed);
    copy.searchParams.set(name, value);
    return `${copy.pathname}${copy.search}`;
  };
  const unsigned = new URL(parsed);
  unsigned.searchParams.delete('sig');
  unsigned.searchParams.delete('exp');
  const cases = {
    'tampered width': tamper('w', '2000'),
    'tampered source': tamper('src', 'titles/t1/boxshot/fr.jpg'),
    'exp pushed later': tamper('exp', String(Number(parsed.searchParams.get('exp')) + 3600)),
    'sig of another key': signUrl('/v1/render', { src: PUBLISHED_KEY, w: 342, h: 513 }, 'another-key-0123456789', 60),
    unsigned: `${unsigned.pathname}${unsigned.search}`,
    expired: signUrl('/v1/render', { src: PUBLISHED_KEY, w: 342, h: 513 }, SIGNING_KEY, 60, Date.now() - 3600_000),
  };
  for (const [name, bad] of Object.entries(cases)) {
    const r = await app.inject({ method: 'GET', url: bad });
    t.equal(r.statusCode, 403, name);
    t.equal(r.json<Problem>().code, 'BAD_SIGNATURE', name);
  }
});

t.test(
  'numbers are read one way only: a signed URL with a lenient spelling is a 400 naming the parameter',
  async (t) => {
    const cases: Array<[string, Record<string, string>]> = [
      ['w', { w: ' 100' }],
      ['w', { w: '0x10' }],
      ['w', { w: 'Infinity' }],
      ['w', { w: '1e2' }],
      ['w', { w: '+100' }],
      ['w', { w: '0100' }],
      ['w', { w: '100.0' }],
      ['h', { h: '-5' }],
      ['h', { h: '8193' }],
      ['q', { q: '0' }],
      ['q', { q: '50 ' }],
      ['fx', { fx: '.5', fy: '0.5' }],
      ['fy', { fx: '0.5', fy: '1.5' }],
      ['fy', { fx: '0.5', fy: 'NaN' }],
    ];
    for (const [name, override] of cases) {
      const url = signUrl('/v1/render', { src: PUBLISHED_KEY, w: '342', h: '513', ...override }, SIGNING_KEY, 60);
      const res = await app.inject({ method: 'GET', url });
      const label = JSON.stringify(override);
      t.equal(res.statusCode, 400, label);
      t.equal(res.json<Problem>().code, 'INVALID_PARAMETER', label);
      t.match(
        res.json<Problem>().detail,
        new RegExp(`^${name}: expected`),
        `${label} names ${name} and what it expects`,
      );
    }
  },
);

t.test('the signer reads numbers the same way: strings are strict, JSON numbers must be in range', async (t) => {
  const cases = [
    { w: '0x10', h: 10 },
    { w: ' 100', h: 10 },
    { w: 10.5, h: 10 },
    { w: 10, h: 10, q: '1e2' },
    { w: 10, h: 10, fx: 2, fy: 0.5 },
  ];
  for (const c of cases) {
    const res = await sign([{ src: PUBLISHED_KEY, ...c }]);
    t.equal(res.statusCode, 400, JSON.stringify(c));
    t.match(res.json<Problem>().detail, /^renders\[0\]\.\w+: expected/, JSON.stringify(c));
  }
  const ok = await sign([{ src: PUBLISHED_KEY, w: '342', h: 513, q: 80 }]);
  t.equal(ok.statusCode, 200, 'plain decimal strings and JSON integers are both fine');
  t.equal(new URL(ok.json<Signed>().renders[0]!.url, 'http://x').searchParams.get('w'), '342');
  t.match(ok.json<Signed>().renders[0], { w: 342, h: 513, q: 80 }, 'each render echoes as read: numbers');
});
