import t from 'tap';
import { actionsOf, allStatements, refOf, resourceOf, synth } from './fixture.js';

// A canary deploy: the case with two versions behind the alias, where a grant on the function
// or on a version (instead of the alias) would be easiest to get wrong.
const { stack, template } = synth(t, {
  stableVersion: '3',
  canaryWeight: 0.25,
  rules: 's3://marquee-config/rules.yaml',
});
const statements = allStatements(template);
const taskRole = refOf(stack, stack.preprocessor.taskRole);
const generatorRole = refOf(stack, stack.generator.role);
const aliasRef = refOf(stack, stack.generator.live);
const sources = refOf(stack, stack.storage.sources).Ref;
const derivatives = refOf(stack, stack.storage.derivatives).Ref;

const objects = (bucket: string, suffix: string): unknown => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, suffix]],
});
const statementsOf = (role: { Ref: string }): Record<string, unknown>[] =>
  statements.filter((s) => s.roles.some((r) => JSON.stringify(r) === JSON.stringify(role))).map((s) => s.statement);
const withoutSid = (s: Record<string, unknown>): Record<string, unknown> => {
  const { Sid: _sid, ...rest } = s;
  return rest;
};

t.test('the template has identity policies to check', async (t) => {
  t.ok(statements.length >= 10, `found ${statements.length} statements`);
});

t.test('no statement grants a wildcard action', async (t) => {
  for (const { policy, statement } of statements) {
    for (const action of actionsOf(statement)) {
      t.notOk(action.includes('*'), `${policy}: ${action}`);
    }
    t.equal(statement['NotAction'], undefined, `${policy}: no NotAction`);
  }
});

t.test('lambda:InvokeFunction: only the task role, only on the live alias', async (t) => {
  const invokes = statements.filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('lambda:Invoke')));
  t.equal(invokes.length, 1);
  t.same(invokes[0]?.roles, [taskRole]);
  t.same(invokes[0]?.statement['Resource'], aliasRef);
  t.same(actionsOf(invokes[0]?.statement ?? {}), ['lambda:InvokeFunction']);
});

t.test('no resource policy lets anything else invoke the Generator', async () => {
  template.resourceCountIs('AWS::Lambda::Permission', 0);
});

t.test('the Generator reads sources (and badges), writes derivatives, writes its logs: nothing else', async (t) => {
  t.same(statementsOf(generatorRole).map(withoutSid), [
    {
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [refOf(stack, stack.generator.logGroup).Ref, 'Arn'] },
    },
    { Action: ['s3:GetObject', 's3:GetObjectVersion'], Effect: 'Allow', Resource: objects(sources, '/*') },
    { Action: 's3:ListBucket', Effect: 'Allow', Resource: { 'Fn::GetAtt': [sources, 'Arn'] } },
    { Action: 's3:PutObject', Effect: 'Allow', Resource: objects(derivatives, '/derivatives/*') },
  ]);
  template.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'lambda.amazonaws.com' } }] },
  });
  const role = resourceOf(template, generatorRole.Ref);
  t.equal(role.Properties.ManagedPolicyArns, undefined, 'no managed policies (not even basic execution)');
});

t.test('the task role: invoke live, read catalog and rules, studio staging, read large derivatives', async (t) => {
  t.same(statementsOf(taskRole).map(withoutSid), [
    { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: aliasRef },
    {
      Action: 's3:GetObject',
      Effect: 'Allow',
      Resource: [
        objects(sources, '/catalog.json'),
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::marquee-config/rules.yaml']] },
      ],
    },
    { Action: ['s3:GetObject', 's3:PutObject'], Effect: 'Allow', Resource: objects(sources, '/staging/*') },
    { Action: 's3:GetObject', Effect: 'Allow', Resource: objects(derivatives, '/derivatives/*') },
  ]);
  const role = resourceOf(template, taskRole.Ref);
  t.equal(role.Properties.ManagedPolicyArns, undefined);
});

t.test("no role other than the Generator's and the task role touches the buckets", async (t) => {
  for (const { policy, roles, statement } of statements) {
    const text = JSON.stringify(statement['Resource']);
    if (!text.includes(sources) && !text.includes(derivatives)) continue;
    const owner = JSON.stringify(roles);
    t.ok(
      owner === JSON.stringify([taskRole]) || owner === JSON.stringify([generatorRole]),
      `${policy} is the task or Generator policy`,
    );
  }
});

t.test('the execution role may read exactly the two generated secrets', async (t) => {
  const secretReads = statements.filter(({ statement }) =>
    actionsOf(statement).includes('secretsmanager:GetSecretValue'),
  );
  t.same(
    secretReads.map(({ statement }) => statement['Resource']),
    [refOf(stack, stack.preprocessor.signingKey), refOf(stack, stack.preprocessor.studioToken)],
  );
  for (const { roles } of secretReads) t.notSame(roles, [taskRole], 'the task role never reads the secret itself');
});
