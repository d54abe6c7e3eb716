import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient, type InvokeCommandInput, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { startLocalLambda, type LocalFunctionOptions, type LocalLambda } from '../lambda/index.js';

export const FIXTURE = fileURLToPath(new URL('./fixtures/handlers.mjs', import.meta.url));

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface Harness {
  lambda: LocalLambda;
  client: LambdaClient;
  /** What the functions wrote to stdout. */
  output(): string;
  invoke(name: string, event: unknown, extra?: Partial<InvokeCommandInput>): Promise<InvokeCommandOutput>;
}

/** A local endpoint serving fixture exports, and an SDK client without retries (so a 429 surfaces). */
export async function harness(
  t: Tap,
  functions: Record<string, Partial<LocalFunctionOptions>>,
  options: { concurrency?: number; idleMs?: number } = {},
): Promise<Harness> {
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const stderr = new PassThrough();
  stderr.resume();
  const lambda = await startLocalLambda({
    ...options,
    stdout,
    stderr,
    functions: Object.fromEntries(
      Object.entries(functions).map(([name, fn]) => [
        name,
        { handler: FIXTURE, exportName: name, timeoutMs: 10_000, ...fn },
      ]),
    ),
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
    output: () => out,
    invoke: (name, event, extra = {}) =>
      client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), ...extra })),
  };
}

/** A problem+json body as the Preprocessor sends it (RFC 9457, plus its error `code`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

export function json(output: InvokeCommandOutput): unknown {
  return JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8'));
}
