import { existsSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { MarqueeSettings } from './config.js';
import { PREFIX } from './storage.js';
import { GENERATOR_METRICS } from '@marquee/shared';

/** The alias every caller uses; versions behind it move, the name does not. */
export const LIVE_ALIAS = 'live';

/** A Generator call stuck past this share of the timeout is a problem before it becomes a timeout. */
const DURATION_ALARM_SHARE = 0.8;
/** Errors in five minutes that page someone: a few are a bad source, a burst is a bad release. */
const ERRORS_ALARM_THRESHOLD = 5;
/** Throttles in five minutes: one burst of a spike is normal, sustained throttling is not. */
const THROTTLES_ALARM_THRESHOLD = 10;
/** Handled 5xx failures in five minutes: the same bar as `Errors`, a few are one bad source, a burst is not. */
const FAILURES_ALARM_THRESHOLD = 5;

/** Lambda's own retries of a failed asynchronous (store) invocation. */
export const ASYNC_RETRY_ATTEMPTS = 1;
/** How long Lambda keeps retrying an asynchronous (store) invocation, throttles included. */
export const ASYNC_MAX_EVENT_AGE = Duration.minutes(10);

export interface GeneratorProps {
  readonly settings: MarqueeSettings;
  readonly sources: s3.IBucket;
  readonly derivatives: s3.IBucket;
}

/** The sharp Lambda, its `live` alias (weighted for canaries), its failure metric and its alarms. */
export class Generator extends Construct {
  readonly function: lambda.Function;
  readonly live: lambda.Alias;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Coded 5xx failures the function handled and returned, summed over all its versions. */
  readonly failures: cloudwatch.Metric;
  readonly alarms: {
    readonly errors: cloudwatch.Alarm;
    readonly failures: cloudwatch.Alarm;
    readonly throttles: cloudwatch.Alarm;
    readonly duration: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: GeneratorProps) {
    super(scope, id);
    const { settings, sources, derivatives } = props;
    if (!existsSync(settings.generatorZip)) {
      throw new Error(
        `marquee: the Generator bundle ${settings.generatorZip} does not exist. ` +
          'Build it first with `npm run build && npm run package -w generator`, ' +
          'or point to one with `-c generatorZip=<path>`.',
      );
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy lets the
    // function write to every log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Marquee Generator: read sources and badges, write derivatives, write its own logs',
    });
    this.logGroup.grantWrite(this.role);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSourcesAndBadges',
        // GetObjectVersion because the catalog pins source versions.
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [sources.arnForObjects('*')],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListSourcesForNotFound',
        // Without ListBucket S3 answers 403 for a missing key; the Generator must tell SOURCE_NOT_FOUND.
        actions: ['s3:ListBucket'],
        resources: [sources.bucketArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteDerivatives',
        actions: ['s3:PutObject'],
        resources: [derivatives.arnForObjects(`${PREFIX.derivatives}*`)],
      }),
    );

    this.function = new lambda.Function(this, 'Function', {
      functionName: settings.generatorFunctionName,
      description: 'Marquee Generator: fetch a source, render it with sharp, return the bytes',
      runtime: lambda.Runtime.NODEJS_24_X, // GENERATOR_RUNTIME (shared), which the local endpoint reports; the test checks both
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(settings.generatorZip),
      memorySize: settings.generatorMemoryMiB,
      timeout: Duration.seconds(settings.generatorTimeoutSeconds),
      reservedConcurrentExecutions: settings.generatorReservedConcurrency,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        MARQUEE_SOURCE_BUCKETS: sources.bucketName,
        MARQUEE_DERIVATIVES_BUCKET: derivatives.bucketName,
        MARQUEE_MAX_SOURCE_BYTES: String(settings.maxSourceBytes),
        MARQUEE_MAX_INPUT_PIXELS: String(settings.maxInputPixels),
        MARQUEE_FETCH_TIMEOUT_MS: String(settings.fetchTimeoutMs),
        LOG_LEVEL: settings.logLevel,
      },
      // Old versions are kept so that `stableVersion` can still name them after a new deploy.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });

    this.live = new lambda.Alias(this, 'Live', { aliasName: LIVE_ALIAS, ...routing(this, this.function, settings) });
    // Asynchronous invocations are the Preprocessor's store requests (a served render handed back to
    // be kept): one retry for a transient S3 error; one still throttled after ten minutes is for a
    // URL the CDN holds by now, and retrying it longer would only take concurrency from live renders.
    this.live.configureAsyncInvoke({ retryAttempts: ASYNC_RETRY_ATTEMPTS, maxEventAge: ASYNC_MAX_EVENT_AGE });

    const timeoutMs = settings.generatorTimeoutSeconds * 1000;
    const fiveMinutes = Duration.minutes(5);
    // Dimensioned by function name (the runtime's AWS_LAMBDA_FUNCTION_NAME), not by alias:
    // the line cannot know which alias invoked it, so canary and stable versions count together.
    this.failures = new cloudwatch.Metric({
      namespace: GENERATOR_METRICS.namespace,
      metricName: GENERATOR_METRICS.failures,
      dimensionsMap: { [GENERATOR_METRICS.functionDimension]: this.function.functionName },
      statistic: 'Sum',
      period: fiveMinutes,
    });
    this.alarms = {
      errors: this.live.metricErrors({ period: fiveMinutes, statistic: 'Sum' }).createAlarm(this, 'ErrorsAlarm', {
        alarmDescription: 'Generator (live) invocation errors',
        threshold: ERRORS_ALARM_THRESHOLD,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      // Only failure lines carry the metric: no data is the healthy state, not a breach.
      failures: this.failures.createAlarm(this, 'FailuresAlarm', {
        alarmDescription: 'Generator handled 5xx failures (coded, returned, invisible to Errors)',
        threshold: FAILURES_ALARM_THRESHOLD,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      throttles: this.live
        .metricThrottles({ period: fiveMinutes, statistic: 'Sum' })
        .createAlarm(this, 'ThrottlesAlarm', {
          alarmDescription: 'Generator (live) throttled invocations',
          threshold: THROTTLES_ALARM_THRESHOLD,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      duration: this.live.metricDuration({ period: fiveMinutes, statistic: 'p99' }).createAlarm(this, 'DurationAlarm', {
        alarmDescription: `Generator (live) p99 duration above ${DURATION_ALARM_SHARE * 100}% of its timeout`,
        threshold: Math.round(timeoutMs * DURATION_ALARM_SHARE),
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
  }
}

/**
 * Where `live` points. The version built from this deploy's bundle is `currentVersion`.
 * - no `stableVersion`: all traffic to the new version (a plain release, or a promotion);
 * - `stableVersion` and weight 0: all traffic stays on the stable one (new code deployed dark, or a rollback);
 * - `stableVersion` and weight w > 0: the stable version keeps 1 - w, the new one gets w (a canary).
 */
function routing(
  scope: Construct,
  fn: lambda.Function,
  settings: MarqueeSettings,
): Pick<lambda.AliasProps, 'version' | 'additionalVersions'> {
  if (settings.stableVersion === undefined) return { version: fn.currentVersion };
  const stable = lambda.Version.fromVersionAttributes(scope, 'StableVersion', {
    lambda: fn,
    version: settings.stableVersion,
  });
  if (settings.canaryWeight === 0) return { version: stable };
  return { version: stable, additionalVersions: [{ version: fn.currentVersion, weight: settings.canaryWeight }] };
}

export interface GeneratorReleaseGateProps {
  readonly generator: Generator;
  /**
   * The gate, as CodeDeploy's BeforeAllowTraffic hook: a function that reads the deployment's
   * target version, runs the release gate against the version `live` serves (the Preprocessor's
   * `runRelease` without a shift: preprocessor/src/release/, `npm run release -- --candidate
   * <version>`), and reports Succeeded or Failed with PutLifecycleEventHookExecutionStatus.
   */
  readonly gate: lambda.IFunction;
  /** Default: 10 % for 5 minutes, then the rest, as Dynimo's canaries. */
  readonly deploymentConfig?: codedeploy.ILambdaDeploymentConfig;
}

/**
 * A release of the Generator as CodeDeploy runs it: a deploy publishes a version; CodeDeploy runs
 * the gate (BeforeAllowTraffic), which renders the release sample through both versions by number
 * and fails the deployment on a change of look, before any traffic moves; then it shifts `live`
 * by the deployment config and rolls back on the failures or errors alarm, the steps
 * `npm run release -- --shift` rehearses locally. Opt-in: with it, CodeDeploy (not `stableVersion`
 * and `canaryWeight`) moves the alias.
 */
export class GeneratorReleaseGate extends Construct {
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;

  constructor(scope: Construct, id: string, props: GeneratorReleaseGateProps) {
    super(scope, id);
    const { generator, gate } = props;
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      alias: generator.live,
      deploymentConfig: props.deploymentConfig ?? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      preHook: gate,
      alarms: [generator.alarms.failures, generator.alarms.errors],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    // The gate renders through each version by number (never through the alias, whose routing
    // would mix them) and reads the alias to learn which version is live.
    gate.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'GateRendersByVersion',
        actions: ['lambda:InvokeFunction'],
        resources: [`${generator.function.functionArn}:*`],
      }),
    );
    gate.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'GateReadsVersionsAndAlias',
        actions: ['lambda:GetAlias', 'lambda:GetFunction', 'lambda:ListVersionsByFunction'],
        resources: [generator.function.functionArn, `${generator.function.functionArn}:*`],
      }),
    );
  }
}
