// invalidatorFor: one target is its backend; several purge by tag only when every one of them can
// (one publish sends one plan). Both backends here are the real classes, unstarted: no request is made.
import t from 'tap';
import { invalidatorFor } from '../../src/invalidation/backends.js';
import { supportsTags } from '../../src/invalidation/invalidator.js';

const deps = { region: 'us-east-1' };

t.test('each backend purges by tag; together they still do', async (t) => {
  const varnish = invalidatorFor([{ backend: 'varnish', url: 'http://127.0.0.1:1' }], deps);
  const cloudfront = invalidatorFor([{ backend: 'cloudfront', distributionId: 'E2EXAMPLE' }], deps);
  t.ok(varnish && supportsTags(varnish));
  t.ok(cloudfront && supportsTags(cloudfront));
  const both = invalidatorFor(
    [
      { backend: 'varnish', url: 'http://127.0.0.1:1' },
      { backend: 'cloudfront', distributionId: 'E2EXAMPLE' },
    ],
    deps,
  );
  t.equal(both?.name, 'varnish+cloudfront');
  t.ok(both && supportsTags(both), 'every backend can: the combination can');
  t.equal(invalidatorFor([], deps), undefined);
});
