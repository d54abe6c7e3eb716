import { DEFAULT_CACHE_TAG_HEADER } from '@marquee/shared';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { MarqueeSettings } from './config.js';
import { ACCEPT_NORMALISER_CODE, NOT_ROUTED_CODE } from './edge-functions.js';

/** Path patterns, in the order CloudFront tries them; anything else gets the edge 404. */
export const PATHS = {
  artwork: '/v1/artwork/*',
  render: '/v1/render*',
  api: '/v1/*',
  studio: '/studio*',
  healthz: '/healthz',
  readyz: '/readyz',
} as const;

// Used only when the origin sends no Cache-Control; the origin's headers win otherwise
// (minimum 0, so its `no-store` on errors is honoured).
const ARTWORK_TTL = { default: Duration.days(1), max: Duration.days(365) } as const;
// Signed previews: cached only if the origin says so, and never past a day (signatures expire).
const RENDER_TTL = { default: Duration.seconds(0), max: Duration.days(1) } as const;
// Enough for a cold Generator render (30 s timeout) plus the Preprocessor's own work.
const ORIGIN_READ_TIMEOUT = Duration.seconds(40);
// Error codes CloudFront lets us configure; 0 s minimum so the origin's no-store/max-age decides.
const ERROR_CODES = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504] as const;

export interface CdnProps {
  readonly settings: MarqueeSettings;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
}

/** CloudFront in front of the internal ALB, with artwork-aware cache keys. */
export class Cdn extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly artworkCachePolicy: cloudfront.CachePolicy;
  readonly renderCachePolicy: cloudfront.CachePolicy;
  readonly acceptNormaliser: cloudfront.Function;
  /** The response header CloudFront reads the artwork's cache tags from. */
  readonly cacheTagHeader: string;

  constructor(scope: Construct, id: string, props: CdnProps) {
    super(scope, id);
    const { settings } = props;

    const origin = origins.VpcOrigin.withApplicationLoadBalancer(props.loadBalancer, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      httpPort: 80,
      readTimeout: ORIGIN_READ_TIMEOUT,
      ...shield(settings.originShieldRegion ?? Stack.of(this).region),
    });

    this.artworkCachePolicy = new cloudfront.CachePolicy(this, 'ArtworkCache', {
      comment: 'Marquee artwork: path + locale + v + normalised Accept',
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Accept'),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList('locale', 'v'),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      minTtl: Duration.seconds(0),
      defaultTtl: ARTWORK_TTL.default,
      maxTtl: ARTWORK_TTL.max,
      // Images are already compressed; gzip variants would only split the cache.
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    this.renderCachePolicy = new cloudfront.CachePolicy(this, 'RenderCache', {
      comment: 'Marquee signed renders: every query parameter is part of the signature',
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      minTtl: Duration.seconds(0),
      defaultTtl: RENDER_TTL.default,
      maxTtl: RENDER_TTL.max,
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });

    this.acceptNormaliser = new cloudfront.Function(this, 'AcceptNormaliser', {
      comment: 'Marquee: collapse Accept to the one format the Preprocessor would pick',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(ACCEPT_NORMALISER_CODE),
    });
    const notRouted = new cloudfront.Function(this, 'NotRouted', {
      comment: 'Marquee: 404 at the edge for paths not routed to the origin (e.g. /metrics)',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(NOT_ROUTED_CODE),
    });

    const https = cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS;
    const uncached = {
      origin,
      viewerProtocolPolicy: https,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    } satisfies cloudfront.BehaviorOptions;

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Marquee artwork',
      priceClass: settings.priceClass,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: https,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        functionAssociations: [{ function: notRouted, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        [PATHS.artwork]: {
          origin,
          viewerProtocolPolicy: https,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: this.artworkCachePolicy,
          compress: false,
          functionAssociations: [
            { function: this.acceptNormaliser, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
          ],
        },
        [PATHS.render]: {
          origin,
          viewerProtocolPolicy: https,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: this.renderCachePolicy,
          compress: false,
        },
        // Studio API calls and uploads: never cached, everything forwarded.
        [PATHS.api]: { ...uncached, allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL, compress: true },
        [PATHS.studio]: { ...uncached, allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL, compress: true },
        [PATHS.healthz]: { ...uncached, allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD },
        [PATHS.readyz]: { ...uncached, allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD },
      },
      errorResponses: ERROR_CODES.map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
    });
    this.cacheTagHeader = DEFAULT_CACHE_TAG_HEADER;
    // Cache tags: CloudFront stores the tags each artwork reply names in this header (the one the
    // Preprocessor sends: it leaves MARQUEE_CACHE_TAG_HEADER at its default), and a publish
    // invalidates them as `#tag` items (Developer Guide, "Invalidating content by cache tags").
    // CloudFormation has the property (AWS::CloudFront::Distribution DistributionConfig.CacheTagConfig,
    // and CfnDistribution.CacheTagConfigProperty in aws-cdk-lib 2.276), but the L2 Distribution
    // renders its DistributionConfig from its own props and has none for it, so it is set on the
    // L1 underneath; CDK's escape hatch for a property the L2 does not model.
    const cfn = this.distribution.node.defaultChild as cloudfront.CfnDistribution;
    cfn.addPropertyOverride('DistributionConfig.CacheTagConfig', { HeaderName: this.cacheTagHeader });
  }
}

/** Default (see the call): the shield in the origin's own region, AWS's advice for a single-region origin. */
function shield(region: string | false): Pick<origins.VpcOriginProps, 'originShieldEnabled' | 'originShieldRegion'> {
  return region === false ? { originShieldEnabled: false } : { originShieldEnabled: true, originShieldRegion: region };
}
