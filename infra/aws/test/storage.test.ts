import t from 'tap';
import { Match } from 'aws-cdk-lib/assertions';
import { refOf, resourceOf, synth } from './fixture.js';

const { stack, template } = synth(t, { derivativesExpiryDays: 14 });
const buckets = {
  sources: refOf(stack, stack.storage.sources),
  derivatives: refOf(stack, stack.storage.derivatives),
};

t.test('exactly two buckets', async () => {
  template.resourceCountIs('AWS::S3::Bucket', 2);
});

for (const [name, ref] of Object.entries(buckets)) {
  t.test(`${name}: encrypted, public access blocked, owner-enforced`, async (t) => {
    const resource = resourceOf(template, ref.Ref);
    t.match(resource.Properties, {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  t.test(`${name}: a bucket policy denies any request without TLS`, async () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref,
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
}

t.test('sources are versioned (the catalog pins versions); derivatives are not', async (t) => {
  t.same(resourceOf(template, buckets.sources.Ref).Properties.VersioningConfiguration, { Status: 'Enabled' });
  t.equal(resourceOf(template, buckets.derivatives.Ref).Properties.VersioningConfiguration, undefined);
});

t.test('studio uploads under staging/ expire; published sources do not', async (t) => {
  const rules = (
    resourceOf(template, buckets.sources.Ref).Properties.LifecycleConfiguration as {
      Rules: Array<Record<string, unknown>>;
    }
  ).Rules;
  const staging = rules.filter((r) => r.Prefix === 'staging/');
  t.equal(staging.length, 1);
  t.equal(staging[0]?.ExpirationInDays, 7);
  t.notOk(
    rules.some((r) => r.ExpirationInDays !== undefined && r.Prefix !== 'staging/'),
    'no current-version expiry outside staging/',
  );
});

t.test('derivatives expire after the configured days', async () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    VersioningConfiguration: Match.absent(),
    LifecycleConfiguration: {
      Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 14, Status: 'Enabled' })]),
    },
  });
});
