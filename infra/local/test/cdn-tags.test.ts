// Cache tags end to end on the embedded stack with its CDN (`npm start -- --cdn`): the real
// Preprocessor tags its replies, the real Varnish stores them in xkey, the rules diff plans tags for
// a boxshot WebP quality change, and the Varnish invalidator purges them. Exactly the boxshot WebP
// objects go (every size, locale and `.auto` client that got WebP); the boxshot JPEGs and AVIFs and
// every billboard stay HITs. The path plan (`/v1/artwork/boxshot/*`) would have dropped them all.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_CACHE_TAG_HEADER } from '@marquee/shared';
import { VarnishInvalidator, diffRules, parseCatalog, parseRules } from '@marquee/preprocessor';
import { startStack } from '../stack/stack.js';
import { localS3Client } from '../s3/index.js';
import { CATALOG_KEY } from '../seed/catalog.js';

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-cdn-tags-'));
const stack = await startStack({
  dataDir: path.join(dir, 'data'),
  port: 0,
  logger: false,
  lambdaConcurrency: 2,
  cdn: true,
});
t.teardown(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});
const s3 = localS3Client(stack.s3Endpoint);
t.teardown(() => s3.destroy());

const shipped = await readFile(new URL('../../../preprocessor/config/rules.yaml', import.meta.url), 'utf8');
/** The boxshot WebP look changes (quality 70 at every size); nothing else does. */
const draft = shipped.replace(
  /(\n {2}boxshot:\n(?: {4}.*\n)*?)( {4}overlays:)/,
  '$1    encoding:\n      webp: { quality: 70 }\n$2',
);

function get(url: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${stack.cdnUrl}${url}`, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('error', reject);
  });
}

const OBJECTS: Array<{ url: string; accept?: string; changes: boolean }> = [
  { url: '/v1/artwork/boxshot/80000001/342x513.webp', changes: true },
  { url: '/v1/artwork/boxshot/80000001/171x256.webp?locale=fr', changes: true },
  { url: '/v1/artwork/boxshot/80000002/684x1026.webp', changes: true },
  { url: '/v1/artwork/boxshot/80000003/342x513.auto', accept: 'image/webp,*/*', changes: true },
  { url: '/v1/artwork/boxshot/80000003/342x513.auto', accept: 'image/jpeg', changes: false },
  { url: '/v1/artwork/boxshot/80000001/342x513.jpg', changes: false },
  { url: '/v1/artwork/boxshot/80000002/342x513.avif', changes: false },
  { url: '/v1/artwork/billboard/80000001/960x540.webp', changes: false },
  { url: '/v1/artwork/billboard/80000002/960x540.jpg', changes: false },
];

const states = async () => {
  const out: string[] = [];
  for (const o of OBJECTS) out.push(String((await get(o.url, o.accept ? { accept: o.accept } : {})).headers['x-cdn']));
  return out;
};

t.test('a look change purges by tag exactly the objects it changes, through the real stack', async (t) => {
  t.not(draft, shipped, 'the draft changes the boxshot type');
  const catalogText = await (
    await s3.send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: CATALOG_KEY }))
  ).Body!.transformToString();
  const diff = diffRules({
    current: parseRules(shipped, 'shipped'),
    next: parseRules(draft, 'draft'),
    catalog: parseCatalog(catalogText, CATALOG_KEY),
    sourcesBucket: 'marquee-sources',
  });
  t.same(diff.invalidations, ['/v1/artwork/boxshot/*'], 'the path plan: every boxshot');
  t.ok(diff.tagInvalidations.length > 0 && diff.tagInvalidations.every((tag) => tag.startsWith('look:')));
  t.same(diff.tagFallbackPaths, [], 'the looks name every changed object');

  const first = await get(OBJECTS[0]!.url);
  t.match(first.headers[DEFAULT_CACHE_TAG_HEADER], /look:[0-9a-f]{16}/, 'the Preprocessor tags its replies');
  await states();
  t.same(await states(), Array(OBJECTS.length).fill('HIT'), 'all cached');

  const invalidator = new VarnishInvalidator({ url: stack.invalidation!.url });
  const result = await invalidator.invalidateTagged(
    { tags: diff.tagInvalidations, paths: diff.tagFallbackPaths },
    'test: boxshot webp quality',
  );
  t.equal(result.purged, OBJECTS.filter((o) => o.changes).length, 'Varnish counts the objects it purged');
  t.same(
    await states(),
    OBJECTS.map((o) => (o.changes ? 'MISS' : 'HIT')),
    'only the boxshot WebPs refetched; JPEG, AVIF and billboards stay HITs',
  );
});
