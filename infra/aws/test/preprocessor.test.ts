import t from 'tap';
import { Match } from 'aws-cdk-lib/assertions';
import { refOf, synth } from './fixture.js';

const { stack, template } = synth(t, { minTasks: 3, maxTasks: 12, requestsPerTarget: 800, cpuTargetPercent: 55 });
const container = (): Record<string, unknown> => {
  const defs = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  t.equal(defs.length, 1);
  return (
    (defs[0] as { Properties: { ContainerDefinitions: Record<string, unknown>[] } }).Properties
      .ContainerDefinitions[0] ?? {}
  );
};

t.test('a Fargate service in private subnets, no public IP, with rollback on failed deploys', async () => {
  template.hasResourceProperties('AWS::ECS::Service', {
    LaunchType: 'FARGATE',
    DesiredCount: 3,
    DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100 },
    NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
  });
  template.hasResourceProperties('AWS::ECS::TaskDefinition', {
    RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    TaskRoleArn: { 'Fn::GetAtt': [refOf(stack, stack.preprocessor.taskRole).Ref, 'Arn'] },
  });
});

t.test('configured through the environment', async (t) => {
  const env = Object.fromEntries(
    (container()['Environment'] as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
  );
  t.match(env, {
    HOST: '0.0.0.0',
    PORT: '8080',
    AWS_REGION: 'eu-west-1',
    MARQUEE_GENERATOR_FUNCTION: refOf(stack, stack.generator.function),
    MARQUEE_GENERATOR_QUALIFIER: 'live',
    MARQUEE_SOURCES_BUCKET: refOf(stack, stack.storage.sources),
    MARQUEE_DERIVATIVES_BUCKET: refOf(stack, stack.storage.derivatives),
    MARQUEE_RULES: '/app/preprocessor/config/rules.yaml',
    MARQUEE_CATALOG: { 'Fn::Join': ['', ['s3://', refOf(stack, stack.storage.sources), '/catalog.json']] },
    LOG_LEVEL: 'info',
    // Follows the Generator's 30 s timeout (review finding: it stayed at 25 s whatever the function allowed).
    MARQUEE_GENERATOR_TIMEOUT_MS: '32000',
    MARQUEE_STUDIO_SECURE_COOKIE: 'true',
  });
});

t.test('the signing key and studio token come from generated Secrets Manager secrets, never in clear', async (t) => {
  const c = container();
  t.same(c['Secrets'], [
    { Name: 'MARQUEE_SIGNING_KEY', ValueFrom: refOf(stack, stack.preprocessor.signingKey) },
    { Name: 'MARQUEE_STUDIO_TOKEN', ValueFrom: refOf(stack, stack.preprocessor.studioToken) },
  ]);
  const names = (c['Environment'] as { Name: string }[]).map((e) => e.Name);
  t.notOk(names.includes('MARQUEE_SIGNING_KEY'));
  t.notOk(names.includes('MARQUEE_STUDIO_TOKEN'));
  template.resourceCountIs('AWS::SecretsManager::Secret', 2);
  for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret'))) {
    const p = (secret as { Properties: Record<string, unknown> }).Properties;
    t.equal(p['SecretString'], undefined, 'no literal secret value');
    t.match(p['GenerateSecretString'], { PasswordLength: 64 });
  }
});

t.test('container liveness on /healthz with node (no curl in the slim image)', async (t) => {
  t.match(container()['HealthCheck'], { Command: ['CMD', 'node', '-e', /\/healthz/] });
});

t.test('an internal ALB, open only to the VPC (CloudFront VPC origin), readiness on /readyz', async (t) => {
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
  template.hasResourceProperties('AWS::EC2::SecurityGroup', {
    SecurityGroupIngress: [
      { CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PreprocessorVpc'), 'CidrBlock'] }, FromPort: 80, ToPort: 80 },
    ],
  });
  for (const sg of Object.values(template.findResources('AWS::EC2::SecurityGroup'))) {
    const ingress =
      (sg as { Properties: { SecurityGroupIngress?: { CidrIp?: unknown }[] } }).Properties.SecurityGroupIngress ?? [];
    for (const rule of ingress) t.not(rule.CidrIp, '0.0.0.0/0', 'nothing open to the internet');
  }
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
    HealthCheckPath: '/readyz',
    Matcher: { HttpCode: '200' },
    Port: 80,
    TargetType: 'ip',
  });
});

t.test('the ALB refuses /metrics', async () => {
  template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
    Priority: 1,
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/metrics', '/metrics/*'] } }],
    Actions: [
      Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) }),
    ],
  });
});

t.test('autoscaling between min and max tasks on CPU and on requests per target', async () => {
  template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
    MinCapacity: 3,
    MaxCapacity: 12,
    ScalableDimension: 'ecs:service:DesiredCount',
    ServiceNamespace: 'ecs',
  });
  template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 2);
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      TargetValue: 55,
    },
  });
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
    PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: {
      PredefinedMetricSpecification: {
        PredefinedMetricType: 'ALBRequestCountPerTarget',
        ResourceLabel: Match.anyValue(),
      },
      TargetValue: 800,
    },
  });
});

t.test('S3 traffic stays off the NAT through a gateway endpoint', async () => {
  template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
    VpcEndpointType: 'Gateway',
    ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
  });
});
