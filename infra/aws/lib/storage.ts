import { Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BADGES_PREFIX, DERIVATIVES_PREFIX, DRAFTS_PREFIX, STAGING_PREFIX } from '@marquee/shared';
import type { MarqueeSettings } from './config.js';

/**
 * Object prefixes the services agree on, from `@marquee/shared` where the services take them
 * too; IAM statements and lifecycle rules are scoped to them.
 */
export const PREFIX = {
  /** Studio uploads awaiting review, in the sources bucket. */
  staging: STAGING_PREFIX,
  /** Overlay images (e.g. "Top 10"), in the sources bucket. */
  badges: BADGES_PREFIX,
  /** Studio rules drafts, in the sources bucket. */
  drafts: DRAFTS_PREFIX,
  /** Large Generator outputs, in the derivatives bucket. */
  derivatives: DERIVATIVES_PREFIX,
} as const;

/** Sources (versioned: the catalog pins versions) and derivatives (expiring: re-creatable). */
/**
 * Read access to the derivative store, and nothing else there: GetObject under `derivatives/`
 * (which authorises HeadObject too) as statement `sid`, and ListBucket, without which S3 answers
 * 403 for a key that is not there, where a miss must read as a 404. Only the Generator writes.
 */
export function readDerivativeStore(role: iam.IRole, derivatives: s3.IBucket, sid: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid,
      actions: ['s3:GetObject'],
      resources: [derivatives.arnForObjects(`${PREFIX.derivatives}*`)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TellMissingDerivatives',
      actions: ['s3:ListBucket'],
      resources: [derivatives.bucketArn],
    }),
  );
}

/**
 * What every invoker of the Generator needs: `lambda:InvokeFunction` on the `live` alias only,
 * and GetObject on the catalog object and, when the rules are an S3 object, on it.
 */
export function invokeLiveAndReadConfig(
  role: iam.IRole,
  live: lambda.IAlias,
  sources: s3.IBucket,
  catalogKey: string,
  rulesAt: { bucket: string; key: string } | undefined,
): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'InvokeGeneratorLive',
      actions: ['lambda:InvokeFunction'],
      resources: [live.functionArn],
    }),
  );
  const configObjects = [sources.arnForObjects(catalogKey)];
  if (rulesAt !== undefined) {
    configObjects.push(`arn:${Stack.of(role).partition}:s3:::${rulesAt.bucket}/${rulesAt.key}`);
  }
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'ReadCatalogAndRules', actions: ['s3:GetObject'], resources: configObjects }),
  );
}

export class Storage extends Construct {
  readonly sources: s3.Bucket;
  readonly derivatives: s3.Bucket;

  constructor(scope: Construct, id: string, settings: MarqueeSettings) {
    super(scope, id);
    const common = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    } satisfies s3.BucketProps;

    this.sources = new s3.Bucket(this, 'Sources', {
      ...common,
      bucketName: settings.sourcesBucketName,
      versioned: true,
      lifecycleRules: [
        // Old versions stay long enough to roll a catalog back, then stop costing storage.
        { id: 'noncurrent', noncurrentVersionExpiration: Duration.days(90) },
        { id: 'multipart', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        // Studio uploads are proposals: a week to decide, then they go (promote by copying out of staging/).
        {
          id: 'staging',
          prefix: PREFIX.staging,
          expiration: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
    });

    this.derivatives = new s3.Bucket(this, 'Derivatives', {
      ...common,
      bucketName: settings.derivativesBucketName,
      lifecycleRules: [
        { id: 'expire', expiration: Duration.days(settings.derivativesExpiryDays) },
        { id: 'multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }
}
