import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  InvalidParameterValueException,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { startLocalLambda, type LocalLambda } from '../lambda/index.js';
import { writeZip } from '@marquee/shared';

/** A function whose reply says which code ran and which version the runtime was told it is. */
const source = (marker: string): string =>
  `export const handler = async (event) => { if (event.ms) await new Promise((r) => setTimeout(r, event.ms)); return { marker: ${JSON.stringify(marker)}, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, pid: process.pid }; };\n`;

const zipOf = (marker: string): Buffer =>
  writeZip([{ path: 'index.mjs', data: Buffer.from(source(marker)), mode: 0o644 }]);

interface Setup {
  lambda: LocalLambda;
  client: LambdaClient;
  dir: string;
  call(qualifier?: string): Promise<{ executed: string | undefined; marker: string; version: string }>;
}

async function setup(
  t: { teardown(fn: () => unknown): void },
  opts: { concurrency?: number; publishAs?: string } = {},
): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-versions-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'index.mjs'), source('A'));
  const lambda = await startLocalLambda({
    concurrency: opts.concurrency ?? 4,
    functions: {
      fn: {
        handler: join(dir, 'index.mjs'),
        timeoutMs: 10_000,
        ...(opts.publishAs ? { publishAs: opts.publishAs } : {}),
      },
    },
  });
  t.teardown(() => lambda.close());
  const client = new LambdaClient({
    endpoint: lambda.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  t.teardown(() => client.destroy());
  return {
    lambda,
    client,
    dir,
    async call(qualifier) {
      const out = await client.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: qualifier, Payload: '{}' }));
      const body = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString()) as {
        marker: string;
        version: string;
      };
      return { executed: out.ExecutedVersion, ...body };
    },
  };
}

t.test('publishAs: version 1 and an alias at start, and the versions list says so', async (t) => {
  const s = await setup(t, { publishAs: 'live' });
  t.match(await s.call('live'), { executed: '1', marker: 'A', version: '1' });
  t.match(await s.call(), { executed: '$LATEST', marker: 'A', version: '$LATEST' });
  t.match(await s.call('1'), { executed: '1', version: '1' });
  const list = await s.client.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn' }));
  t.same(
    list.Versions?.map((v) => v.Version),
    ['$LATEST', '1'],
  );
  const alias = await s.client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }));
  t.match(alias, { Name: 'live', FunctionVersion: '1', AliasArn: /:function:fn:live$/ });
});

t.test('UpdateFunctionCode then PublishVersion: each version runs its own frozen code', async (t) => {
  const s = await setup(t, { publishAs: 'live' });
  const zip = zipOf('B');
  const updated = await s.client.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: zip }));
  t.equal(updated.CodeSha256, createHash('sha256').update(zip).digest('base64'), 'CodeSha256 is the zip’s');
  t.match(await s.call(), { executed: '$LATEST', marker: 'B' });
  t.match(await s.call('live'), { executed: '1', marker: 'A' }, 'version 1 keeps its code');
  const v2 = await s.client.send(new PublishVersionCommand({ FunctionName: 'fn', Description: 'candidate' }));
  t.match(v2, { Version: '2', CodeSha256: updated.CodeSha256, Description: 'candidate' });
  const again = await s.client.send(new PublishVersionCommand({ FunctionName: 'fn' }));
  t.equal(again.Version, '2', 'unchanged code publishes no new version, as Lambda does');
  t.match(await s.call('2'), { executed: '2', marker: 'B', version: '2' });
  const got = await s.client.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier: '2' }));
  t.match(got.Configuration, { Version: '2', FunctionArn: /:function:fn:2$/, CodeSha256: updated.CodeSha256 });
  const byAlias = await s.client.send(new GetFunctionCommand({ FunctionName: 'fn', Qualifier: 'live' }));
  t.match(byAlias.Configuration, { Version: '1', FunctionArn: /:function:fn:live$/ });
  // Why: the operator's folder is rebuilt in place; a published version must not change with it.
  await writeFile(join(s.dir, 'index.mjs'), source('C'));
  t.match(await s.call('1'), { marker: 'A' }, 'a rebuilt folder does not change a published version');
  const stream = await s.client.send(
    new InvokeWithResponseStreamCommand({ FunctionName: 'fn', Qualifier: '2', Payload: '{}' }),
  );
  t.equal(stream.ExecutedVersion, '2', 'InvokeWithResponseStream says which version ran');
  for await (const event of stream.EventStream ?? []) void event;
});

t.test('a CodeSha256 that is not $LATEST’s publishes nothing', async (t) => {
  const s = await setup(t);
  await t.rejects(
    s.client.send(new PublishVersionCommand({ FunctionName: 'fn', CodeSha256: 'not-the-hash' })),
    InvalidParameterValueException,
  );
  const list = await s.client.send(new ListVersionsByFunctionCommand({ FunctionName: 'fn' }));
  t.same(
    list.Versions?.map((v) => v.Version),
    ['$LATEST'],
  );
});

t.test('an alias weight of 0.3 sends about 30 % of invocations to the additional version', async (t) => {
  const s = await setup(t, { publishAs: 'live' });
  await s.client.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: zipOf('B'), Publish: true }));
  const alias = await s.client.send(
    new UpdateAliasCommand({
      FunctionName: 'fn',
      Name: 'live',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.3 } },
    }),
  );
  t.same(alias.RoutingConfig?.AdditionalVersionWeights, { '2': 0.3 });
  const n = 400;
  const counts: Record<string, number> = {};
  const mismatched: string[] = [];
  for (let i = 0; i < n; i += 4) {
    const batch = await Promise.all([0, 1, 2, 3].map(() => s.call('live')));
    for (const r of batch) {
      counts[r.executed ?? '?'] = (counts[r.executed ?? '?'] ?? 0) + 1;
      if ((r.executed === '2') !== (r.marker === 'B')) mismatched.push(`${r.executed ?? '?'}:${r.marker}`);
    }
  }
  // Binomial(400, 0.3): mean 120, sd 9.2; ±40 is 4.4 sd, outside it about once in 100 000 runs.
  const share = (counts['2'] ?? 0) / n;
  t.ok(share >= 0.2 && share <= 0.4, `${(share * 100).toFixed(1)} % went to version 2 (expected 30 ± 10 %)`);
  t.equal((counts['1'] ?? 0) + (counts['2'] ?? 0), n, 'every invocation ran version 1 or 2');
  t.same(mismatched, [], 'ExecutedVersion always names the code that ran');
  t.equal(s.lambda.stats().versions.fn?.['2']?.invocations, counts['2']);
});

t.test('alias errors are Lambda’s', async (t) => {
  const s = await setup(t, { publishAs: 'live' });
  await t.rejects(
    s.client.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' })),
    ResourceConflictException,
  );
  await t.rejects(s.client.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'nope' })), ResourceNotFoundException);
  await t.rejects(
    s.client.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'x', FunctionVersion: '9' })),
    ResourceNotFoundException,
  );
  await t.rejects(
    s.client.send(
      new UpdateAliasCommand({
        FunctionName: 'fn',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { $LATEST: 0.5 } },
      }),
    ),
    InvalidParameterValueException,
    'routing to $LATEST is refused',
  );
  await t.rejects(s.call('7'), ResourceNotFoundException, 'an unknown version');
  await t.rejects(s.call('staging'), ResourceNotFoundException, 'an unknown alias');
});

t.test('versions share the function’s concurrency', async (t) => {
  const s = await setup(t, { publishAs: 'live', concurrency: 1 });
  await s.client.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: zipOf('B'), Publish: true }));
  t.match(await s.call('2'), { marker: 'B' });
  // Why: Lambda's limit is per function; a second version is not a second allowance.
  const slow = s.client.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: '1', Payload: '{"ms":1500}' }));
  await new Promise((resolve) => setTimeout(resolve, 700));
  await t.rejects(s.call('2'), TooManyRequestsException, 'version 2 is throttled while version 1 holds the slot');
  t.equal((await slow).ExecutedVersion, '1');
  t.match(await s.call('2'), { marker: 'B' }, 'and runs once the slot is free, on its warm environment');
  t.equal(s.lambda.stats().versions.fn?.['2']?.coldStarts, 1);
});
