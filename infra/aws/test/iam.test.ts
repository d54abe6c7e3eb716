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
const consumerRole = refOf(stack, stack.prewarm.role);
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

t.test('lambda:InvokeFunction: only the task role and the prewarm consumer, only on the live alias', async (t) => {
  const invokes = statements.filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('lambda:Invoke')));
  t.same(
    invokes.map((i) => i.roles),
    [[taskRole], [consumerRole]],
  );
  for (const invoke of invokes) {
    t.same(invoke.statement['Resource'], aliasRef);
    t.same(actionsOf(invoke.statement), ['lambda:InvokeFunction']);
  }
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

const catalogAndRules = {
  Action: 's3:GetObject',
  Effect: 'Allow',
  Resource: [
    objects(sources, '/catalog.json'),
    { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::marquee-config/rules.yaml']] },
  ],
};
// The fixture's account (111111111111): the ARN names one distribution of one account.
const distributionArn = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':cloudfront::111111111111:distribution/',
      refOf(stack, stack.cdn.distribution),
    ],
  ],
};

t.test(
  'the task role: invoke live, read catalog and rules, studio staging and drafts, read the store, invalidate',
  async (t) => {
    t.same(statementsOf(taskRole), [
      { Sid: 'InvokeGeneratorLive', Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: aliasRef },
      { Sid: 'ReadCatalogAndRules', ...catalogAndRules },
      {
        Sid: 'StudioStaging',
        Action: ['s3:GetObject', 's3:PutObject'],
        Effect: 'Allow',
        Resource: objects(sources, '/staging/*'),
      },
      {
        Sid: 'StudioDrafts',
        Action: ['s3:GetObject', 's3:PutObject'],
        Effect: 'Allow',
        Resource: objects(sources, '/drafts/*'),
      },
      {
        Sid: 'ListStudioDrafts',
        Action: 's3:ListBucket',
        Condition: { StringLike: { 's3:prefix': 'drafts/*' } },
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [sources, 'Arn'] },
      },
      {
        Sid: 'ReadDerivativeStore',
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: objects(derivatives, '/derivatives/*'),
      },
      {
        Sid: 'TellMissingDerivatives',
        Action: 's3:ListBucket',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [derivatives, 'Arn'] },
      },
      {
        Sid: 'InvalidateDistribution',
        Action: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:GetDistributionConfig'],
        Effect: 'Allow',
        Resource: distributionArn,
      },
    ]);
    const role = resourceOf(template, taskRole.Ref);
    t.equal(role.Properties.ManagedPolicyArns, undefined);
  },
);

t.test('the task role only reads the derivative store: no write or delete on the derivatives bucket', async (t) => {
  const onDerivatives = statementsOf(taskRole).filter((s) => JSON.stringify(s['Resource']).includes(derivatives));
  t.ok(onDerivatives.length > 0, 'the task role does read the store');
  for (const statement of onDerivatives) {
    t.same(
      actionsOf(statement).filter((a) => !['s3:GetObject', 's3:ListBucket'].includes(a)),
      [],
      `${String(statement['Sid'])}: reads only`,
    );
  }
});

t.test('cloudfront:CreateInvalidation: the task role alone, on the one distribution, never "*"', async (t) => {
  const invalidations = statements.filter(({ statement }) =>
    actionsOf(statement).some((a) => a.startsWith('cloudfront:')),
  );
  t.same(
    invalidations.map((i) => i.roles),
    [[taskRole]],
  );
  for (const { statement } of invalidations) {
    t.same(actionsOf(statement), [
      'cloudfront:CreateInvalidation',
      'cloudfront:GetInvalidation',
      'cloudfront:GetDistributionConfig',
    ]);
    t.same(statement['Resource'], distributionArn);
    t.notOk(JSON.stringify(statement['Resource']).includes('"*"'), 'no wildcard resource');
    t.notOk(JSON.stringify(statement['Resource']).includes('distribution/*'), 'no wildcard distribution');
  }
});

t.test(
  'the prewarm consumer: its logs, invoke live, read catalog and rules, check the store, take from its queue',
  async (t) => {
    t.same(statementsOf(consumerRole), [
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [refOf(stack, stack.prewarm.logGroup).Ref, 'Arn'] },
      },
      { Sid: 'InvokeGeneratorLive', Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: aliasRef },
      { Sid: 'ReadCatalogAndRules', ...catalogAndRules },
      {
        Sid: 'CheckDerivativeStore',
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: objects(derivatives, '/derivatives/*'),
      },
      {
        Sid: 'TellMissingDerivatives',
        Action: 's3:ListBucket',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [derivatives, 'Arn'] },
      },
      {
        Action: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [refOf(stack, stack.prewarm.queue).Ref, 'Arn'] },
      },
    ]);
    const role = resourceOf(template, consumerRole.Ref);
    t.equal(role.Properties.ManagedPolicyArns, undefined, 'no managed policies (not even basic execution)');
  },
);

t.test("CDK's bucket-notifications handler may set notifications on the sources bucket, nothing more", async (t) => {
  const handlerStatements = statements.filter(({ statement }) =>
    actionsOf(statement).some((a) => a.includes('BucketNotification')),
  );
  t.same(
    handlerStatements.map((h) => h.statement),
    [{ Action: 's3:PutBucketNotification', Effect: 'Allow', Resource: { 'Fn::GetAtt': [sources, 'Arn'] } }],
  );
});

t.test(
  'no role but the Generator, the task, the prewarm consumer and the notifications handler touches the buckets',
  async (t) => {
    const allowed = [taskRole, generatorRole, consumerRole].map((r) => JSON.stringify([r]));
    for (const { policy, roles, statement } of statements) {
      const text = JSON.stringify(statement['Resource']);
      if (!text.includes(sources) && !text.includes(derivatives)) continue;
      if (actionsOf(statement).every((a) => a === 's3:PutBucketNotification')) continue;
      t.ok(allowed.includes(JSON.stringify(roles)), `${policy} is the task, Generator or consumer policy`);
    }
  },
);

t.test('only the Generator writes derivatives', async (t) => {
  for (const { policy, roles, statement } of statements) {
    if (!JSON.stringify(statement['Resource']).includes(derivatives)) continue;
    if (!actionsOf(statement).some((a) => /^s3:(Put|Delete|Copy|Restore)/.test(a))) continue;
    t.same(roles, [generatorRole], `${policy} writes derivatives`);
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
