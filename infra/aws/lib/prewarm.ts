import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GENERATOR_RUNTIME } from '@marquee/shared';
import { notificationFilters, parseS3Url, prewarmBudget, type MarqueeSettings, type PrewarmBudget } from './config.js';
import { LIVE_ALIAS } from './generator.js';
import { BUNDLED_RULES_PATH, consumerCode, imageRulesFile } from './prewarm-code.js';
import { invokeLiveAndReadConfig, readDerivativeStore } from './storage.js';

/**
 * Lambda's advice for an SQS source: a visibility timeout of at least six times the function's
 * timeout, so a batch delayed by throttling is retried by Lambda before SQS hands it out again.
 */
export const VISIBILITY_PER_TIMEOUT = 6;
/** Deliveries before a record goes to the dead-letter queue: Lambda's advice is at least five. */
export const MAX_RECEIVE_COUNT = 5;
/** Records per consumer invocation: one S3 event each, planned together with one catalog load. */
export const BATCH_SIZE = 10;
/** Gathers a catalog write and the sources it names into one batch; prewarm stays within seconds. */
export const BATCHING_WINDOW = Duration.seconds(5);
/** A prewarm older than this is not worth doing: a later publish or the first request covers it. */
const QUEUE_RETENTION = Duration.days(4);
/** Long enough to notice, read and redrive a failed record. */
const DEAD_LETTER_RETENTION = Duration.days(14);

export interface PrewarmProps {
  readonly settings: MarqueeSettings;
  /** Where the Preprocessor image's files come from: the rules the image ships, when they are not in S3. */
  readonly repoRoot: string;
  readonly sources: s3.Bucket;
  readonly derivatives: s3.IBucket;
  readonly generator: lambda.IFunction;
  readonly live: lambda.IAlias;
}

/**
 * Prewarm on publish: the sources bucket tells a queue when artwork, the catalog or the rules are
 * written; a small consumer of its own plans what that makes worth rendering and renders what the
 * derivative store lacks through the Generator's `live` alias, never holding more of the Generator
 * than its budget ({@link prewarmBudget}). A record that keeps failing lands in the dead-letter
 * queue, whose alarm says so.
 */
export class Prewarm extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly budget: PrewarmBudget;
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PrewarmProps) {
    super(scope, id);
    const { settings, sources, derivatives } = props;
    this.budget = prewarmBudget(settings);
    const timeout = Duration.seconds(settings.prewarmTimeoutSeconds);

    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      // SSE-SQS, not KMS: S3 can deliver to it without a key policy granting S3 the key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: Duration.seconds(
        VISIBILITY_PER_TIMEOUT * settings.prewarmTimeoutSeconds + BATCHING_WINDOW.toSeconds(),
      ),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    const filters = notificationFilters(settings);
    const destination = new s3n.SqsDestination(this.queue);
    sources.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix: filters.artworkPrefix });
    // An exact key: prefix and suffix both the key (S3 filters have no equality).
    for (const key of filters.keys) {
      sources.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix: key, suffix: key });
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Marquee prewarm consumer: read catalog and rules, check the store, invoke the Generator live alias',
    });
    this.logGroup.grantWrite(this.role);
    const rulesAt = parseS3Url(settings.rules);
    grantConsumerAccess(this.role, props, rulesAt);

    this.function = new lambda.Function(this, 'Function', {
      description: 'Marquee prewarm: S3 events from SQS → the warm set the store lacks → the Generator (live)',
      // The Generator's runtime: one Node.js line to keep current across the app.
      runtime: new lambda.Runtime(GENERATOR_RUNTIME, lambda.RuntimeFamily.NODEJS),
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: consumerCode(
        props.repoRoot,
        rulesAt === undefined ? imageRulesFile(props.repoRoot, settings.rules) : undefined,
      ),
      memorySize: settings.prewarmMemoryMiB,
      timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        MARQUEE_RULES: rulesAt === undefined ? BUNDLED_RULES_PATH : settings.rules,
        MARQUEE_CATALOG: `s3://${sources.bucketName}/${settings.catalogKey}`,
        MARQUEE_SOURCES_BUCKET: sources.bucketName,
        MARQUEE_DERIVATIVES_BUCKET: derivatives.bucketName,
        MARQUEE_ARTWORK_PREFIX: settings.artworkPrefix,
        MARQUEE_GENERATOR_FUNCTION: props.generator.functionName,
        MARQUEE_GENERATOR_QUALIFIER: LIVE_ALIAS,
        // As the Preprocessor's: the function's timeout plus the invoke round trip.
        MARQUEE_GENERATOR_TIMEOUT_MS: String(settings.generatorTimeoutSeconds * 1000 + 2000),
        MARQUEE_PREWARM_CONCURRENCY: String(this.budget.perConsumer),
        LOG_LEVEL: settings.logLevel,
      },
    });

    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: BATCH_SIZE,
        maxBatchingWindow: BATCHING_WINDOW,
        // consumers × perConsumer ≤ the budget: the cap on prewarm's share of the Generator.
        maxConcurrency: this.budget.consumers,
        // Only the records that failed go back to the queue; the rest of the batch is done.
        reportBatchItemFailures: true,
      }),
    );

    this.deadLetterAlarm = this.deadLetters
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'DeadLettersAlarm', {
        alarmDescription: `Prewarm records failed ${MAX_RECEIVE_COUNT} times and wait in the dead-letter queue`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
  }
}

/** Exactly what the consumer does with AWS; each statement names its objects. */
function grantConsumerAccess(
  role: iam.Role,
  props: PrewarmProps,
  rulesAt: { bucket: string; key: string } | undefined,
): void {
  const { settings, sources, derivatives, live } = props;
  invokeLiveAndReadConfig(role, live, sources, settings.catalogKey, rulesAt);
  // HEADs only: what the store already has is not prewarmed again.
  readDerivativeStore(role, derivatives, 'CheckDerivativeStore');
}
