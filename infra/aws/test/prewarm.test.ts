import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { Metafile } from 'esbuild';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { GENERATOR_RUNTIME } from '@marquee/shared';
import { prewarmBudget } from '../lib/config.js';
import { BATCH_SIZE, MAX_RECEIVE_COUNT, VISIBILITY_PER_TIMEOUT } from '../lib/prewarm.js';
import { BUNDLED_RULES_PATH, consumerCode, imageRulesFile, refuseSharp } from '../lib/prewarm-code.js';
import { REPO_ROOT, refOf, resourceOf, synth, type Synth } from './fixture.js';

// Three deployments: the defaults (rules in the image, no reserved concurrency), a reserved
// Generator with the rules in the sources bucket, and rules in a bucket of their own.
const plain = synth(t);
const reserved = synth(t, {
  generatorReservedConcurrency: 50,
  sourcesBucketName: 'acme-marquee-sources',
  rules: 's3://acme-marquee-sources/config/rules.yaml',
});
const external = synth(t, { rules: 's3://marquee-config/rules.yaml', prewarmMaxConcurrency: 40 });

const ref = (s: Synth, construct: { node: { defaultChild?: unknown } }): { Ref: string } => refOf(s.stack, construct);
const arnOf = (s: Synth, construct: { node: { defaultChild?: unknown } }): unknown => ({
  'Fn::GetAtt': [ref(s, construct).Ref, 'Arn'],
});
const consumer = (s: Synth): Record<string, unknown> =>
  resourceOf(s.template, ref(s, s.stack.prewarm.function).Ref).Properties;
const envOf = (s: Synth): Record<string, unknown> =>
  (consumer(s)['Environment'] as { Variables: Record<string, unknown> }).Variables;
const mapping = (s: Synth): Record<string, unknown> => {
  const all = Object.values(s.template.findResources('AWS::Lambda::EventSourceMapping'));
  if (all.length !== 1) throw new Error(`expected one event source mapping, found ${all.length}`);
  return (all[0] as { Properties: Record<string, unknown> }).Properties;
};
const notifications = (s: Synth, t: Test): unknown[] => {
  const all = Object.values(s.template.findResources('Custom::S3BucketNotifications'));
  if (all.length !== 1) throw new Error(`expected one notifications resource, found ${all.length}`);
  const p = (all[0] as { Properties: { BucketName: unknown; NotificationConfiguration: Record<string, unknown> } })
    .Properties;
  t.same(p.BucketName, ref(s, s.stack.storage.sources), 'on the sources bucket');
  t.same(Object.keys(p.NotificationConfiguration), ['QueueConfigurations'], 'to SQS only');
  return p.NotificationConfiguration['QueueConfigurations'] as unknown[];
};
const toQueue = (s: Synth, rules: { Name: string; Value: string }[]): unknown => ({
  Events: ['s3:ObjectCreated:*'],
  Filter: { Key: { FilterRules: rules } },
  QueueArn: arnOf(s, s.stack.prewarm.queue),
});

t.test('S3 → SQS: artwork created under the prefix and the catalog object, from the sources bucket', async (t) => {
  t.same(notifications(plain, t), [
    toQueue(plain, [{ Name: 'prefix', Value: 'titles/' }]),
    toQueue(plain, [
      { Name: 'suffix', Value: 'catalog.json' },
      { Name: 'prefix', Value: 'catalog.json' },
    ]),
  ]);
});

t.test('a rules object in the sources bucket notifies too; one elsewhere cannot', async (t) => {
  t.same(
    notifications(reserved, t)[2],
    toQueue(reserved, [
      { Name: 'suffix', Value: 'config/rules.yaml' },
      { Name: 'prefix', Value: 'config/rules.yaml' },
    ]),
  );
  t.equal(notifications(external, t).length, 2, 'artwork and catalog only');
});

t.test('only S3, and only for the sources bucket, may send to the queue; TLS only', async (t) => {
  const policy = Object.values(plain.template.findResources('AWS::SQS::QueuePolicy')).find((p) =>
    JSON.stringify((p as { Properties: { Queues: unknown } }).Properties.Queues).includes(
      ref(plain, plain.stack.prewarm.queue).Ref,
    ),
  ) as { Properties: { PolicyDocument: { Statement: unknown[] } } };
  t.same(policy.Properties.PolicyDocument.Statement, [
    {
      Action: 'sqs:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Resource: arnOf(plain, plain.stack.prewarm.queue),
    },
    {
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      Condition: { ArnLike: { 'aws:SourceArn': arnOf(plain, plain.stack.storage.sources) } },
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Resource: arnOf(plain, plain.stack.prewarm.queue),
    },
  ]);
});

t.test('the queue: SSE, retention, a visibility timeout of six consumer timeouts, a dead-letter queue', async (t) => {
  const queue = resourceOf(plain.template, ref(plain, plain.stack.prewarm.queue).Ref).Properties;
  const timeout = consumer(plain)['Timeout'] as number;
  t.equal(timeout, 300);
  t.match(queue, {
    SqsManagedSseEnabled: true,
    MessageRetentionPeriod: 4 * 24 * 3600,
    RedrivePolicy: { deadLetterTargetArn: arnOf(plain, plain.stack.prewarm.deadLetters), maxReceiveCount: 5 },
  });
  t.equal(MAX_RECEIVE_COUNT, 5, "Lambda's advice: at least five receives before the dead-letter queue");
  // Lambda's advice for an SQS source: at least six times the function's timeout (plus the batching window).
  t.ok(
    (queue['VisibilityTimeout'] as number) >= VISIBILITY_PER_TIMEOUT * timeout + 5,
    `${String(queue['VisibilityTimeout'])} s`,
  );
  t.equal(VISIBILITY_PER_TIMEOUT, 6);

  const dlq = resourceOf(plain.template, ref(plain, plain.stack.prewarm.deadLetters).Ref).Properties;
  t.same(dlq, { MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
  plain.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [ref(plain, plain.stack.prewarm.deadLetters)],
    PolicyDocument: {
      Statement: [
        {
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: arnOf(plain, plain.stack.prewarm.deadLetters),
        },
      ],
    },
  });
  plain.template.resourceCountIs('AWS::SQS::Queue', 2);
});

t.test('a record waiting in the dead-letter queue raises the alarm', async () => {
  plain.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Dimensions: [
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [ref(plain, plain.stack.prewarm.deadLetters).Ref, 'QueueName'] } },
    ],
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    AlarmActions: [ref(plain, plain.stack.alarmTopic)],
  });
});

t.test('the event source mapping: bounded batches, bounded concurrency, partial batch failures', async (t) => {
  t.same(mapping(plain), {
    BatchSize: BATCH_SIZE,
    EventSourceArn: arnOf(plain, plain.stack.prewarm.queue),
    FunctionName: ref(plain, plain.stack.prewarm.function),
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    MaximumBatchingWindowInSeconds: 5,
    ScalingConfig: { MaximumConcurrency: plain.stack.prewarm.budget.consumers },
  });
  t.equal(BATCH_SIZE, 10, 'what Lambda allows without a larger batching window');
});

// consumers (MaximumConcurrency) × perConsumer (MARQUEE_PREWARM_CONCURRENCY) is the most Generator
// invocations prewarming can hold at once.
const heldAtMost = (s: Synth): number =>
  (mapping(s)['ScalingConfig'] as { MaximumConcurrency: number }).MaximumConcurrency *
  Number(envOf(s)['MARQUEE_PREWARM_CONCURRENCY']);

t.test('prewarm never holds more than its share of a reserved Generator', async (t) => {
  // 50 reserved × 0.2 = 10: live misses keep at least 40.
  t.equal(heldAtMost(reserved), 10);
  t.ok(heldAtMost(reserved) <= Math.floor(50 * reserved.stack.settings.prewarmShare));
  t.match(mapping(reserved), { ScalingConfig: { MaximumConcurrency: 2 } });
  t.equal(envOf(reserved)['MARQUEE_PREWARM_CONCURRENCY'], '5');
});

t.test('without a reservation, prewarmMaxConcurrency is the ceiling', async (t) => {
  t.equal(heldAtMost(plain), 10);
  // 40 → five consumers of eight.
  t.equal(heldAtMost(external), 40);
  t.match(mapping(external), { ScalingConfig: { MaximumConcurrency: 5 } });
});

t.test('the budget arithmetic: never above the ceiling, at least two consumers (Lambda’s floor)', async (t) => {
  const base = plain.stack.settings;
  for (const [reservedConcurrency, share, max] of [
    [undefined, 0.2, 2],
    [undefined, 0.2, 17],
    [10, 0.2, 100],
    [200, 0.2, 10_000],
    [1000, 0.5, 10_000],
    [7, 0.3, 100],
  ] as const) {
    const b = prewarmBudget({
      ...base,
      generatorReservedConcurrency: reservedConcurrency,
      prewarmShare: share,
      prewarmMaxConcurrency: max,
    });
    const ceiling = Math.min(reservedConcurrency === undefined ? max : Math.floor(reservedConcurrency * share), max);
    t.ok(b.consumers >= 2 && b.consumers <= 1000, `${b.consumers} consumers`);
    t.ok(b.perConsumer >= 1);
    t.equal(b.generatorConcurrency, b.consumers * b.perConsumer);
    t.ok(b.generatorConcurrency <= ceiling, `${b.generatorConcurrency} ≤ ${ceiling}`);
  }
  t.throws(() => prewarmBudget({ ...base, generatorReservedConcurrency: 5, prewarmShare: 0.2 }), {
    name: 'SettingsError',
    setting: 'prewarmShare',
  });
});

t.test('the consumer: arm64, the Generator’s runtime, its own log group, configured for this stack', async (t) => {
  t.match(consumer(plain), {
    Runtime: GENERATOR_RUNTIME,
    Architectures: ['arm64'],
    Handler: 'index.handler',
    MemorySize: 1024,
    Timeout: 300,
    Role: arnOf(plain, plain.stack.prewarm.role),
    LoggingConfig: { LogGroup: ref(plain, plain.stack.prewarm.logGroup) },
  });
  t.same(envOf(plain), {
    MARQUEE_RULES: BUNDLED_RULES_PATH,
    MARQUEE_CATALOG: { 'Fn::Join': ['', ['s3://', ref(plain, plain.stack.storage.sources), '/catalog.json']] },
    MARQUEE_SOURCES_BUCKET: ref(plain, plain.stack.storage.sources),
    MARQUEE_DERIVATIVES_BUCKET: ref(plain, plain.stack.storage.derivatives),
    MARQUEE_ARTWORK_PREFIX: 'titles/',
    MARQUEE_GENERATOR_FUNCTION: ref(plain, plain.stack.generator.function),
    MARQUEE_GENERATOR_QUALIFIER: 'live',
    MARQUEE_GENERATOR_TIMEOUT_MS: '32000',
    MARQUEE_PREWARM_CONCURRENCY: '5',
    LOG_LEVEL: 'info',
  });
  t.equal(envOf(reserved)['MARQUEE_RULES'], 's3://acme-marquee-sources/config/rules.yaml', 'S3 rules are read from S3');
  t.equal(consumer(plain)['ReservedConcurrentExecutions'], undefined, 'bounded by the mapping, not by throttling');
});

t.test('the Preprocessor leaves catalog prewarming to the consumer', async (t) => {
  const defs = Object.values(plain.template.findResources('AWS::ECS::TaskDefinition'));
  const env = Object.fromEntries(
    (
      (defs[0] as { Properties: { ContainerDefinitions: { Environment: { Name: string; Value: unknown }[] }[] } })
        .Properties.ContainerDefinitions[0]?.Environment ?? []
    ).map((e) => [e.Name, e.Value]),
  );
  t.equal(env['MARQUEE_PREWARM_ON_RELOAD'], 'false');
});

t.test('outputs: the distribution id (for a publish), both queues, the consumer log', async (t) => {
  const outputs = plain.template.toJSON().Outputs as Record<string, { Value: unknown }>;
  t.same(outputs['DistributionId']?.Value, ref(plain, plain.stack.cdn.distribution));
  t.same(outputs['PrewarmQueueUrl']?.Value, ref(plain, plain.stack.prewarm.queue));
  t.same(outputs['PrewarmDeadLetterQueueUrl']?.Value, ref(plain, plain.stack.prewarm.deadLetters));
  t.same(outputs['PrewarmLogGroup']?.Value, ref(plain, plain.stack.prewarm.logGroup));
});

t.test('no dependency cycle: the task definition waits for the distribution, nothing waits back', async (t) => {
  const resources = plain.template.toJSON().Resources as Record<string, { DependsOn?: string[] | string }>;
  const edges = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(resources)) {
    const deps = new Set<string>([resource.DependsOn ?? []].flat());
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        for (const [k, inner] of Object.entries(v)) {
          if (k === 'Ref' && typeof inner === 'string' && inner in resources) deps.add(inner);
          else if (k === 'Fn::GetAtt' && Array.isArray(inner) && typeof inner[0] === 'string') deps.add(inner[0]);
          else walk(inner);
        }
      }
    };
    walk({ ...resource, DependsOn: undefined });
    edges.set(id, deps);
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycle: string[] = [];
  const visit = (id: string, path: string[]): boolean => {
    if (state.get(id) === 'done') return false;
    if (state.get(id) === 'open') {
      cycle.push(...path.slice(path.indexOf(id)), id);
      return true;
    }
    state.set(id, 'open');
    for (const next of edges.get(id) ?? []) if (visit(next, [...path, id])) return true;
    state.set(id, 'done');
    return false;
  };
  for (const id of edges.keys()) if (visit(id, [])) break;
  t.same(cycle, [], 'no cycle');
});

t.test('the bundle: one ESM file that loads, with the image’s rules when they are not in S3', async (t) => {
  const rulesFile = imageRulesFile(REPO_ROOT, '/app/preprocessor/config/rules.yaml');
  const dir = (consumerCode(REPO_ROOT, rulesFile) as lambda.AssetCode).path;
  t.ok(existsSync(join(dir, 'index.mjs')), 'index.mjs (handler: index.handler)');
  t.equal(
    readFileSync(join(dir, 'rules.yaml'), 'utf8'),
    readFileSync(join(REPO_ROOT, 'preprocessor/config/rules.yaml'), 'utf8'),
  );
  // Loads with every module resolved, and refuses a bad environment at the cold start, naming it.
  const run = (env: Record<string, string>, body: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', body], {
      env: { PATH: '/usr/bin:/bin', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const bad = run({}, `await import(${JSON.stringify(join(dir, 'index.mjs'))});`);
  t.not(bad.status, 0);
  t.match(bad.stderr, /MARQUEE_CATALOG/);
  // The test event S3 sends when notifications are configured: nothing to do, nothing to retry.
  const good = run(
    {
      MARQUEE_RULES: join(dir, 'rules.yaml'),
      MARQUEE_CATALOG: 's3://sources/catalog.json',
      MARQUEE_SOURCES_BUCKET: 'sources',
      MARQUEE_DERIVATIVES_BUCKET: 'derivatives',
      MARQUEE_ARTWORK_PREFIX: 'titles/',
      MARQUEE_GENERATOR_FUNCTION: 'generator',
      MARQUEE_GENERATOR_TIMEOUT_MS: '32000',
      MARQUEE_PREWARM_CONCURRENCY: '5',
      LOG_LEVEL: 'silent',
      AWS_REGION: 'eu-west-1',
    },
    `const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))});
     const out = await handler({ Records: [{ messageId: 'm1', body: JSON.stringify({ Event: 's3:TestEvent' }) },
       { messageId: 'm2', body: 'not json' }] }, { getRemainingTimeInMillis: () => 300000 });
     process.stdout.write(JSON.stringify(out));`,
  );
  t.equal(good.status, 0, good.status === 0 ? 'the handler answered' : good.stderr);
  t.same(JSON.parse(good.stdout || '{}'), { batchItemFailures: [{ itemIdentifier: 'm2' }] });
});

t.test('bundling refuses a consumer that would load sharp', async (t) => {
  const metafile = (imports: string[]): Metafile => ({
    inputs: {
      'infra/aws/prewarm-consumer/handler.ts': {
        bytes: 1,
        imports: imports.map((path) => ({ path, kind: 'import-statement' as const, original: path })),
      },
    },
    outputs: {},
  });
  t.doesNotThrow(() => refuseSharp(metafile(['node_modules/pino/pino.js'])));
  t.throws(() => refuseSharp(metafile(['node_modules/sharp/lib/index.js'])), {
    message: /must not load sharp \(imported by infra\/aws\/prewarm-consumer\/handler\.ts\)/,
  });
});

t.test('rules in the image must be a file of this repository under /app/', async (t) => {
  t.throws(() => imageRulesFile(REPO_ROOT, '/etc/rules.yaml'), { message: /neither s3:\/\/bucket\/key nor/ });
  t.throws(() => imageRulesFile(REPO_ROOT, '/app/preprocessor/config/absent.yaml'), { message: /Put the rules in S3/ });
});
