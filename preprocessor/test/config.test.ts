import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

t.test('secrets: generated locally and flagged; refused in production', async (t) => {
  const local = loadConfig({}, {});
  t.same(local.generated, { signingKey: true, studioToken: true });
  const half = loadConfig({}, { MARQUEE_STUDIO_TOKEN: 'a-configured-token' });
  // Regression (review finding): a configured token was printed when only the key was generated.
  t.same(half.generated, { signingKey: true, studioToken: false });
  t.throws(() => loadConfig({}, { NODE_ENV: 'production', MARQUEE_STUDIO_TOKEN: 'a-configured-token' }), ConfigError);
  const prod = loadConfig({}, { NODE_ENV: 'production', MARQUEE_STUDIO_TOKEN: 'a-configured-token', MARQUEE_SIGNING_KEY: 'k'.repeat(32) });
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
  for (const [name, value] of cases) t.throws(() => loadConfig({}, { [name]: value }), { message: new RegExp(name) }, name);
});
