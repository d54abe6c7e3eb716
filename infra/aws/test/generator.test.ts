import t from 'tap';
import { Match } from 'aws-cdk-lib/assertions';
import { fakeGeneratorZip, refOf, resourceOf, synth } from './fixture.js';
import { MarqueeStack } from '../lib/marquee-stack.js';
import { App } from 'aws-cdk-lib';
import { GENERATOR_MEMORY_MIB, GENERATOR_RUNTIME } from '@marquee/shared';

// Three deploy states of the same stack: a plain release, a 10 % canary, and a dark deploy.
const release = synth(t);
const canary = synth(t, { stableVersion: '7', canaryWeight: 0.1, generatorReservedConcurrency: 50 });
const dark = synth(t, { stableVersion: '7', canaryWeight: 0 });

t.test('an arm64 Node.js 24 function sized for image work', async (t) => {
  // The Generator, the prewarm consumer and CDK's bucket-notifications handler.
  release.template.resourceCountIs('AWS::Lambda::Function', 3);
  t.match(resourceOf(release.template, refOf(release.stack, release.stack.generator.function).Ref).Properties, {
    MemorySize: GENERATOR_MEMORY_MIB,
  });
  release.template.hasResourceProperties('AWS::Lambda::Function', {
    // The runtime the local Lambda endpoint reports too (shared/src/runtime.ts).
    Runtime: GENERATOR_RUNTIME,
    Architectures: ['arm64'],
    Handler: 'index.handler',
    MemorySize: 2048,
    Timeout: 30,
    ReservedConcurrentExecutions: Match.absent(),
    Environment: {
      Variables: {
        MARQUEE_SOURCE_BUCKETS: { Ref: Match.stringLikeRegexp('^StorageSources') },
        MARQUEE_DERIVATIVES_BUCKET: { Ref: Match.stringLikeRegexp('^StorageDerivatives') },
        MARQUEE_MAX_SOURCE_BYTES: Match.stringLikeRegexp('^\\d+$'),
        MARQUEE_MAX_INPUT_PIXELS: Match.stringLikeRegexp('^\\d+$'),
        MARQUEE_FETCH_TIMEOUT_MS: '10000',
        LOG_LEVEL: 'info',
      },
    },
  });
});

t.test('reserved concurrency is optional and passed through', async () => {
  canary.template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 50 });
});

t.test('release: a published version and `live` on it, no weighted routing', async () => {
  release.template.resourceCountIs('AWS::Lambda::Version', 1);
  release.template.hasResourceProperties('AWS::Lambda::Alias', {
    Name: 'live',
    FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GeneratorFunctionCurrentVersion'), 'Version'] },
    RoutingConfig: Match.absent(),
  });
});

t.test('canary: `live` stays on the stable version and sends the weight to the new one', async () => {
  canary.template.hasResourceProperties('AWS::Lambda::Alias', {
    Name: 'live',
    FunctionVersion: '7',
    RoutingConfig: {
      AdditionalVersionWeights: [
        {
          FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GeneratorFunctionCurrentVersion'), 'Version'] },
          FunctionWeight: 0.1,
        },
      ],
    },
  });
});

t.test('weight 0 with a stable version: all traffic on it, no additional routing', async () => {
  dark.template.hasResourceProperties('AWS::Lambda::Alias', {
    Name: 'live',
    FunctionVersion: '7',
    RoutingConfig: Match.absent(),
  });
  // The new code is still published, ready for the canary.
  dark.template.resourceCountIs('AWS::Lambda::Version', 1);
});

t.test('old versions are retained so that stableVersion can name them', async () => {
  release.template.hasResource('AWS::Lambda::Version', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
});

t.test('alarms on the live alias: errors, throttles, p99 duration', async () => {
  const template = release.template;
  // Four on the Generator, one on the prewarm dead-letter queue (prewarm.test.ts).
  template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
  const onLive = Match.arrayWith([
    { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('^GeneratorFunction') }, ':live']] } },
  ]);
  const toTopic = [{ Ref: Match.stringLikeRegexp('^Alarms') }];
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Statistic: 'Sum',
    Dimensions: onLive,
    AlarmActions: toTopic,
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'AWS/Lambda',
    MetricName: 'Throttles',
    Statistic: 'Sum',
    Dimensions: onLive,
    AlarmActions: toTopic,
  });
  // 80 % of the 30 s timeout.
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'AWS/Lambda',
    MetricName: 'Duration',
    ExtendedStatistic: 'p99',
    Threshold: 24000,
    Dimensions: onLive,
    AlarmActions: toTopic,
  });
});

t.test("logs go to the function's own group with a retention", async () => {
  release.template.hasResourceProperties('AWS::Lambda::Function', {
    LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^GeneratorLogs') } },
  });
  release.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
});

t.test('a missing bundle stops synth with the command that builds it', async (t) => {
  const missing = fakeGeneratorZip(t) + '.absent';
  t.throws(
    () => new MarqueeStack(new App(), 'Missing', { settings: { generatorZip: missing }, repoRoot: '/nowhere' }),
    { message: /does not exist.*npm run package -w generator/s },
  );
});

t.test('store requests (asynchronous invocations of live): one retry, ten minutes at most', async () => {
  release.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
  release.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    FunctionName: refOf(release.stack, release.stack.generator.function),
    Qualifier: { 'Fn::Select': [7, { 'Fn::Split': [':', refOf(release.stack, release.stack.generator.live)] }] },
    MaximumRetryAttempts: 1,
    MaximumEventAgeInSeconds: 600,
  });
});
