import t from 'tap';
import { Match } from 'aws-cdk-lib/assertions';
import { ACCEPT_NORMALISER_CODE, NOT_ROUTED_CODE } from '../lib/edge-functions.js';
import { DEFAULT_CACHE_TAG_HEADER } from '@marquee/shared';
import { refOf, synth } from './fixture.js';

const { stack, template } = synth(t, { priceClass: 'PriceClass_200' as never });
const noShield = synth(t, { originShieldRegion: false });

type Behavior = Record<string, unknown> & { PathPattern?: string };
const config = (
  tpl = template,
): Record<string, unknown> & {
  CacheBehaviors: Behavior[];
  DefaultCacheBehavior: Behavior;
  Origins: Record<string, unknown>[];
} => {
  const dists = Object.values(tpl.findResources('AWS::CloudFront::Distribution'));
  return (dists[0] as { Properties: { DistributionConfig: never } }).Properties.DistributionConfig;
};
const behavior = (path: string): Behavior => {
  const b = config().CacheBehaviors.find((x) => x.PathPattern === path);
  if (b === undefined) throw new Error(`no behaviour for ${path}`);
  return b;
};
const artworkPolicy = refOf(stack, stack.cdn.artworkCachePolicy);
const renderPolicy = refOf(stack, stack.cdn.renderCachePolicy);
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';

t.test('one distribution, the configured price class, HTTPS for viewers', async (t) => {
  template.resourceCountIs('AWS::CloudFront::Distribution', 1);
  t.equal(config()['PriceClass'], 'PriceClass_200');
  for (const b of [config().DefaultCacheBehavior, ...config().CacheBehaviors]) {
    t.equal(b['ViewerProtocolPolicy'], 'redirect-to-https');
  }
});

t.test('the origin is the internal ALB as a VPC origin, behind an origin shield in the stack region', async (t) => {
  template.hasResourceProperties('AWS::CloudFront::VpcOrigin', {
    VpcOriginEndpointConfig: {
      Arn: refOf(stack, stack.preprocessor.service.loadBalancer),
      HTTPPort: 80,
      OriginProtocolPolicy: 'http-only',
    },
  });
  t.match(config().Origins, [
    { OriginShield: { Enabled: true, OriginShieldRegion: 'eu-west-1' }, VpcOriginConfig: { OriginReadTimeout: 40 } },
  ]);
  t.match(config(noShield.template).Origins, [{ OriginShield: { Enabled: false } }]);
});

t.test('artwork cache key: path + locale + v + Accept; TTLs honour the origin; no gzip variants', async () => {
  template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
    CachePolicyConfig: Match.objectLike({
      MinTTL: 0,
      DefaultTTL: 86400,
      MaxTTL: 31536000,
      ParametersInCacheKeyAndForwardedToOrigin: {
        CookiesConfig: { CookieBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['Accept'] },
        QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['locale', 'v'] },
        EnableAcceptEncodingGzip: false,
        EnableAcceptEncodingBrotli: false,
      },
    }),
  });
});

t.test('/v1/artwork/*: artwork policy, Accept normaliser, no compression, GET/HEAD only', async (t) => {
  t.match(behavior('/v1/artwork/*'), {
    CachePolicyId: artworkPolicy,
    Compress: false,
    AllowedMethods: ['GET', 'HEAD'],
    FunctionAssociations: [
      {
        EventType: 'viewer-request',
        FunctionARN: { 'Fn::GetAtt': [refOf(stack, stack.cdn.acceptNormaliser).Ref, 'FunctionARN'] },
      },
    ],
  });
});

t.test('/v1/render*: all query strings in the key (they are signed), cached only if the origin says so', async (t) => {
  t.match(behavior('/v1/render*'), { CachePolicyId: renderPolicy, Compress: false, AllowedMethods: ['GET', 'HEAD'] });
  template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
    CachePolicyConfig: Match.objectLike({
      MinTTL: 0,
      DefaultTTL: 0,
      ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
        QueryStringsConfig: { QueryStringBehavior: 'all' },
        HeadersConfig: { HeaderBehavior: 'none' },
      }),
    }),
  });
});

t.test('studio, API and health paths are routed uncached', async (t) => {
  for (const path of ['/v1/*', '/studio*', '/healthz', '/readyz']) {
    t.match(behavior(path), { CachePolicyId: CACHING_DISABLED }, path);
  }
  t.ok((behavior('/studio*')['AllowedMethods'] as string[]).includes('POST'), 'studio uploads');
});

t.test('behaviour order: the specific /v1 paths before the /v1/* catch-all', async (t) => {
  const paths = config().CacheBehaviors.map((b) => b.PathPattern);
  t.ok(paths.indexOf('/v1/artwork/*') < paths.indexOf('/v1/*'));
  t.ok(paths.indexOf('/v1/render*') < paths.indexOf('/v1/*'));
});

t.test('/metrics is not routed: no behaviour, and the default behaviour answers 404 at the edge', async (t) => {
  const paths = config().CacheBehaviors.map((b) => b.PathPattern ?? '');
  t.notOk(paths.some((p) => p.startsWith('/metrics') || p === '/*' || p === '*'));
  t.match(config().DefaultCacheBehavior, {
    CachePolicyId: CACHING_DISABLED,
    FunctionAssociations: [{ EventType: 'viewer-request' }],
  });
  template.hasResourceProperties('AWS::CloudFront::Function', {
    FunctionCode: NOT_ROUTED_CODE,
    FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
  });
});

t.test('the Accept normaliser deployed is the code under test', async () => {
  template.hasResourceProperties('AWS::CloudFront::Function', {
    FunctionCode: ACCEPT_NORMALISER_CODE,
    FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }),
    AutoPublish: true,
  });
});

t.test("error responses: no minimum caching, so the origin's no-store decides", async (t) => {
  const errors = config()['CustomErrorResponses'] as {
    ErrorCode: number;
    ErrorCachingMinTTL: number;
    ResponsePagePath?: string;
  }[];
  for (const code of [400, 403, 404, 500, 502, 503, 504]) {
    t.match(
      errors.find((e) => e.ErrorCode === code),
      { ErrorCachingMinTTL: 0 },
      String(code),
    );
  }
  t.notOk(
    errors.some((e) => e.ResponsePagePath !== undefined),
    'no replacement pages',
  );
});

t.test('cache tags: the distribution reads them from the header the Preprocessor sends', async (t) => {
  // Without CacheTagConfig CloudFront ignores the header and a `#tag` invalidation purges nothing.
  t.same(config()['CacheTagConfig'], { HeaderName: DEFAULT_CACHE_TAG_HEADER });
  t.equal(stack.cdn.cacheTagHeader, DEFAULT_CACHE_TAG_HEADER);
  t.equal(DEFAULT_CACHE_TAG_HEADER, 'cache-tag', 'the header every artwork reply carries by default');
});
