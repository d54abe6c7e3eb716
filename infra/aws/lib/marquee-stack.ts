import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { Cdn } from './cdn.js';
import { resolveSettings, type MarqueeSettings, type MarqueeSettingsInput } from './config.js';
import { Generator } from './generator.js';
import { Preprocessor } from './preprocessor.js';
import { Prewarm } from './prewarm.js';
import { Storage } from './storage.js';

export interface MarqueeStackProps extends StackProps {
  /** Operator settings; only `generatorZip` is required. */
  readonly settings: MarqueeSettingsInput;
  /** The repository root: the Docker build context of the Preprocessor image. */
  readonly repoRoot: string;
  /** Replaces the image built from `preprocessor/Dockerfile` (e.g. one already in ECR). */
  readonly preprocessorImage?: ecs.ContainerImage;
}

/** Marquee on AWS: buckets, the Generator Lambda, the Preprocessor on Fargate, CloudFront, prewarm on publish. */
export class MarqueeStack extends Stack {
  readonly settings: MarqueeSettings;
  readonly storage: Storage;
  readonly generator: Generator;
  readonly preprocessor: Preprocessor;
  readonly cdn: Cdn;
  readonly prewarm: Prewarm;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MarqueeStackProps) {
    super(scope, id, props);
    this.settings = resolveSettings(props.settings);
    const settings = this.settings;

    this.storage = new Storage(this, 'Storage', settings);
    const { sources, derivatives } = this.storage;
    this.generator = new Generator(this, 'Generator', { settings, sources, derivatives });

    const image =
      props.preprocessorImage ??
      ecs.ContainerImage.fromAsset(props.repoRoot, {
        file: 'preprocessor/Dockerfile',
        platform: settings.taskArch === 'arm64' ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      });
    this.preprocessor = new Preprocessor(this, 'Preprocessor', {
      settings,
      image,
      sources,
      derivatives,
      generator: this.generator.function,
      live: this.generator.live,
    });
    this.cdn = new Cdn(this, 'Cdn', { settings, loadBalancer: this.preprocessor.service.loadBalancer });
    this.preprocessor.allowInvalidation(this.cdn.distribution);
    this.prewarm = new Prewarm(this, 'Prewarm', {
      settings,
      repoRoot: props.repoRoot,
      sources,
      derivatives,
      generator: this.generator.function,
      live: this.generator.live,
    });

    this.alarmTopic = new sns.Topic(this, 'Alarms', { displayName: 'Marquee alarms', enforceSSL: true });
    if (settings.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(settings.alarmEmail));
    }
    for (const alarm of [...Object.values(this.generator.alarms), this.prewarm.deadLetterAlarm]) {
      alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    }

    new CfnOutput(this, 'DistributionDomainName', { value: this.cdn.distribution.distributionDomainName });
    new CfnOutput(this, 'DistributionId', {
      description:
        'The distribution a publish invalidates: `npm run rules -- publish DRAFT --cloudfront-distribution <id>`',
      value: this.cdn.distribution.distributionId,
    });
    new CfnOutput(this, 'SourcesBucketName', { value: sources.bucketName });
    new CfnOutput(this, 'DerivativesBucketName', { value: derivatives.bucketName });
    new CfnOutput(this, 'GeneratorFunctionName', { value: this.generator.function.functionName });
    new CfnOutput(this, 'GeneratorLiveVersion', {
      description: "The version this deploy published: the next canary's stableVersion once promoted",
      value: this.generator.function.currentVersion.version,
    });
    new CfnOutput(this, 'PrewarmQueueUrl', {
      description: 'S3 events for prewarming; send one by hand to prewarm again',
      value: this.prewarm.queue.queueUrl,
    });
    new CfnOutput(this, 'PrewarmLogGroup', {
      description: "The prewarm consumer's log: `aws logs tail <name> --follow`",
      value: this.prewarm.logGroup.logGroupName,
    });
    new CfnOutput(this, 'PrewarmDeadLetterQueueUrl', {
      description: 'Prewarm records that failed five times: read, fix, redrive',
      value: this.prewarm.deadLetters.queueUrl,
    });
  }
}
