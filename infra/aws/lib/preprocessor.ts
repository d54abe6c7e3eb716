import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { parseS3Url, type MarqueeSettings } from './config.js';
import { LIVE_ALIAS } from './generator.js';
import { PREFIX, invokeLiveAndReadConfig, readDerivativeStore } from './storage.js';

/** The port the Preprocessor listens on inside its container. */
export const CONTAINER_PORT = 8080;

export interface PreprocessorProps {
  readonly settings: MarqueeSettings;
  readonly image: ecs.ContainerImage;
  readonly sources: s3.IBucket;
  readonly derivatives: s3.IBucket;
  readonly generator: lambda.IFunction;
  readonly live: lambda.IAlias;
}

/** The Fastify Preprocessor on Fargate behind an internal ALB, with autoscaling and its secrets. */
export class Preprocessor extends Construct {
  readonly vpc: ec2.Vpc;
  readonly service: ecsPatterns.ApplicationLoadBalancedFargateService;
  readonly taskRole: iam.Role;
  readonly signingKey: secretsmanager.Secret;
  readonly studioToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: PreprocessorProps) {
    super(scope, id);
    const { settings, sources, derivatives } = props;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: settings.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    // Free, and keeps S3 traffic (catalog, staging, large derivatives) off the NAT's per-GB bill.
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });

    this.signingKey = generatedSecret(this, 'SigningKey', 'HMAC key for signed /v1/render URLs');
    this.studioToken = generatedSecret(this, 'StudioToken', 'Bearer token for the studio');

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description:
        'Marquee Preprocessor: invoke the Generator live alias, read catalog, rules and the derivative store, studio staging and drafts, invalidate the CDN',
    });
    grantTaskAccess(this.taskRole, props);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.service = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Service', {
      cluster: new ecs.Cluster(this, 'Cluster', { vpc: this.vpc }),
      // Internal: CloudFront reaches it as a VPC origin; nothing on the internet can.
      publicLoadBalancer: false,
      openListener: false,
      taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      cpu: settings.taskCpu,
      memoryLimitMiB: settings.taskMemoryMiB,
      runtimePlatform: {
        cpuArchitecture: settings.taskArch === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      desiredCount: settings.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
      taskImageOptions: {
        image: props.image,
        containerName: 'preprocessor',
        containerPort: CONTAINER_PORT,
        taskRole: this.taskRole,
        logDriver: ecs.LogDrivers.awsLogs({ streamPrefix: 'preprocessor', logGroup }),
        environment: {
          NODE_ENV: 'production',
          HOST: '0.0.0.0',
          PORT: String(CONTAINER_PORT),
          AWS_REGION: Stack.of(this).region,
          MARQUEE_GENERATOR_FUNCTION: props.generator.functionName,
          MARQUEE_GENERATOR_QUALIFIER: LIVE_ALIAS,
          MARQUEE_SOURCES_BUCKET: sources.bucketName,
          MARQUEE_DERIVATIVES_BUCKET: derivatives.bucketName,
          MARQUEE_RULES: settings.rules,
          MARQUEE_CATALOG: `s3://${sources.bucketName}/${settings.catalogKey}`,
          // The Preprocessor's deadline follows the function's timeout, plus the invoke round trip.
          MARQUEE_GENERATOR_TIMEOUT_MS: String(settings.generatorTimeoutSeconds * 1000 + 2000),
          // Viewers reach the studio over HTTPS at CloudFront; the origin hop is HTTP inside AWS.
          MARQUEE_STUDIO_SECURE_COOKIE: 'true',
          // The prewarm consumer warms a new catalog version once for all tasks (lib/prewarm.ts);
          // each task doing it on its own reload would check and render the same set once per task.
          MARQUEE_PREWARM_ON_RELOAD: 'false',
          LOG_LEVEL: settings.logLevel,
        },
        // Resolved by the ECS agent at task start: the values never appear in the template.
        secrets: {
          MARQUEE_SIGNING_KEY: ecs.Secret.fromSecretsManager(this.signingKey),
          MARQUEE_STUDIO_TOKEN: ecs.Secret.fromSecretsManager(this.studioToken),
        },
      },
      // Liveness only (/healthz): a task whose Generator is briefly unreachable is not broken,
      // so ECS must not kill it; readiness (/readyz) steers the ALB instead.
      healthCheck: {
        command: ['CMD', 'node', '-e', nodeProbe('/healthz')],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
    });

    this.service.targetGroup.configureHealthCheck({
      path: '/readyz',
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    });
    // Long enough for an in-flight render (Generator timeout) to finish on a task being drained.
    this.service.targetGroup.setAttribute(
      'deregistration_delay.timeout_seconds',
      String(settings.generatorTimeoutSeconds + 5),
    );
    // CloudFront's VPC-origin network interfaces live in this VPC's subnets; nothing else needs in.
    this.service.loadBalancer.connections.allowFrom(
      ec2.Peer.ipv4(this.vpc.vpcCidrBlock),
      ec2.Port.tcp(80),
      'CloudFront VPC origin',
    );
    // /metrics is for scrapers inside the VPC (task IP:8080), never for the edge.
    this.service.listener.addAction('BlockMetrics', {
      priority: 1,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/metrics', '/metrics/*'])],
      action: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not Found' }),
    });

    const scaling = this.service.service.autoScaleTaskCount({
      minCapacity: settings.minTasks,
      maxCapacity: settings.maxTasks,
    });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: settings.cpuTargetPercent,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: settings.requestsPerTarget,
      targetGroup: this.service.targetGroup,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(300),
    });
  }

  /**
   * Lets the Preprocessor invalidate `distribution` (a rules publish from the studio):
   * `cloudfront:CreateInvalidation` (and reading its progress) on that one distribution's ARN,
   * nothing wider. The id reaches publishers through the stack's `DistributionId` output.
   */
  allowInvalidation(distribution: cloudfront.IDistribution): void {
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvalidateDistribution',
        // GetInvalidation: a publish larger than one batch waits for the batch before to complete.
        // GetDistributionConfig: a tag invalidation first checks that the distribution stores tags.
        actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:GetDistributionConfig'],
        resources: [distribution.distributionArn],
      }),
    );
  }
}

function generatedSecret(scope: Construct, id: string, description: string): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, id, {
    description: `Marquee: ${description}`,
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
  });
}

/** A probe that needs nothing but node (the slim image has no curl). */
export function nodeProbe(path: string): string {
  return `fetch('http://127.0.0.1:${CONTAINER_PORT}${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`;
}

/** Exactly what the Preprocessor does with AWS; each statement names its objects. */
function grantTaskAccess(role: iam.Role, props: PreprocessorProps): void {
  const { settings, sources, derivatives, live } = props;
  invokeLiveAndReadConfig(role, live, sources, settings.catalogKey, parseS3Url(settings.rules));
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'StudioStaging',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [sources.arnForObjects(`${PREFIX.staging}*`)],
    }),
  );
  // Studio rules drafts (`drafts/<id>.yaml`): saved, opened and listed by any task.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'StudioDrafts',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [sources.arnForObjects(`${PREFIX.drafts}*`)],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ListStudioDrafts',
      actions: ['s3:ListBucket'],
      resources: [sources.bucketArn],
      conditions: { StringLike: { 's3:prefix': `${PREFIX.drafts}*` } },
    }),
  );
  // The derivative store: read before rendering, never written (a render's bytes reach the store
  // through the Generator, which alone may PUT there).
  // Large outputs the Generator stored are read the same way.
  readDerivativeStore(role, derivatives, 'ReadDerivativeStore');
}
