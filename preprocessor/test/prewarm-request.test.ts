import t from 'tap';
import { derivativeKey, parseGeneratorRequest, type GeneratorRequest } from '@marquee/shared';
// What the AWS prewarm consumer bundles: its requests are built by this very function.
import { prewarmRequest } from '@marquee/preprocessor/prewarm-consumer';
import { createMetrics } from '../src/plugins/metrics.js';
import { Prewarmer } from '../src/prewarm/engine.js';
import type { WarmEntry } from '../src/prewarm/warm-set.js';

// Issue 19: the Preprocessor's prewarmer and the AWS consumer each wrote the `store: true` request
// out; a field added to one would have left the other rendering without it.

const entry: WarmEntry = {
  key: 'ab'.repeat(16),
  source: { s3: { bucket: 'marquee-sources', key: 'titles/7/boxshot/en.jpg' } },
  spec: { width: 684, height: 1026, fit: 'cover', format: 'jpeg', quality: 80 },
  version: '3',
  url: '/v1/artwork/boxshot/7/342x513@2x.jpg',
  type: 'boxshot',
  titleId: '7',
  locale: 'en',
  format: 'jpeg',
};

t.test('the prewarmer sends, byte for byte, the request the consumer builds for the same image', async (t) => {
  const sent: GeneratorRequest[] = [];
  const prewarmer = new Prewarmer({
    generator: {
      render: async (request: GeneratorRequest) => {
        sent.push(request);
        return { body: Buffer.alloc(0), contentType: 'image/jpeg', width: 1, height: 1, timings: {} as never };
      },
    },
    store: { bucket: 'marquee-derivatives', has: async () => false },
    maxInFlight: 4,
    share: 0.5,
    metrics: createMetrics(),
    logger: { info: () => {}, warn: () => {} },
  });
  t.teardown(() => prewarmer.close());
  await prewarmer.run([entry], { reason: 'test' });
  t.equal(sent.length, 1);
  const [request] = sent as [GeneratorRequest];
  // The id only names the render in logs (a sequence here, a UUID in the consumer).
  t.equal(JSON.stringify(request), JSON.stringify(prewarmRequest(entry, 'marquee-derivatives', request.id)));
  t.same(parseGeneratorRequest(JSON.parse(JSON.stringify(request))), request, 'a request the Generator accepts');
  t.match(request, {
    store: true,
    output: { s3: { bucket: 'marquee-derivatives', key: derivativeKey(entry.key, 'jpeg') } },
  });
});
