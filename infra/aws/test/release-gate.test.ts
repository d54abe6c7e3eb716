import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GeneratorReleaseGate } from '../lib/generator.js';
import { MarqueeStack } from '../lib/marquee-stack.js';
import { REPO_ROOT, fakeGeneratorZip, refOf } from './fixture.js';

// The stack with the opt-in release gate: CodeDeploy shifts `live` after the gate passes.
const outdir = mkdtempSync(join(tmpdir(), 'marquee-cdk-out-'));
t.teardown(() => rmSync(outdir, { recursive: true, force: true }));
const stack = new MarqueeStack(new App({ outdir }), 'MarqueeGateTest', {
  settings: { generatorZip: fakeGeneratorZip(t) },
  repoRoot: REPO_ROOT,
  env: { account: '111111111111', region: 'eu-west-1' },
});
const gate = new lambda.Function(stack, 'GateStandIn', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => {};'),
});
new GeneratorReleaseGate(stack, 'ReleaseGate', { generator: stack.generator, gate });
const template = Template.fromStack(stack);

t.test('a CodeDeploy deployment group drives live, canary 10 % then all, with rollbacks', async () => {
  template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
    DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    AutoRollbackConfiguration: {
      Enabled: true,
      Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']),
    },
    AlarmConfiguration: { Enabled: true, Alarms: Match.arrayWith([Match.objectLike({ Name: Match.anyValue() })]) },
  });
  // CodeDeploy, not CloudFormation, moves the alias' weights.
  template.hasResource('AWS::Lambda::Alias', {
    UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: refOf(stack, gate) } },
  });
});

t.test('the gate renders by version number and reads the alias, and may report to CodeDeploy', async (t) => {
  const policies = template.findResources('AWS::IAM::Policy');
  const statements = Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties.PolicyDocument
        .Statement,
  );
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
  t.match(bySid('GateRendersByVersion'), { Action: 'lambda:InvokeFunction', Effect: 'Allow' });
  t.match(bySid('GateReadsVersionsAndAlias'), {
    Action: ['lambda:GetAlias', 'lambda:GetFunction', 'lambda:ListVersionsByFunction'],
  });
  t.ok(
    statements.some((s) => s.Action === 'codedeploy:PutLifecycleEventHookExecutionStatus'),
    'the hook may say Succeeded or Failed',
  );
});
