import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeWithResponseStreamCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PreludeSplitter, parseFailureBody, renderFacts, type GeneratorRequest } from '@marquee/shared';

/** One render by one version of the Generator, as the gate and the shift watch see it. */
export type Render =
  | {
      ok: true;
      executed: string | undefined;
      ms: number;
      body: Buffer;
      contentType: string;
      width: number;
      height: number;
    }
  | { ok: false; executed: string | undefined; ms: number; error: string };

/** How long the gate keeps retrying a throttled render: the Preprocessor shares the function's concurrency. */
const THROTTLE_RETRY_MS = 30_000;

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}

/**
 * Invokes `qualifier` (a version number, or an alias for the shift watch) with one request, as
 * the Preprocessor does (InvokeWithResponseStream: a prelude, then the bytes); never throws for
 * a failed render, which is what the gate counts. Throttles are retried, with backoff.
 */
export async function renderWith(
  lambda: LambdaClient,
  functionName: string,
  qualifier: string,
  request: GeneratorRequest,
): Promise<Render> {
  const payload = Buffer.from(JSON.stringify(request));
  const deadline = Date.now() + THROTTLE_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    try {
      return await once(lambda, functionName, qualifier, payload, started);
    } catch (err) {
      if (errorName(err) === 'TooManyRequestsException' && Date.now() < deadline) {
        await sleep(Math.random() * 50 * 2 ** Math.min(attempt, 5));
        continue;
      }
      return {
        ok: false,
        executed: undefined,
        ms: performance.now() - started,
        error: `${errorName(err)}: ${String(err)}`,
      };
    }
  }
}

async function once(
  lambda: LambdaClient,
  functionName: string,
  qualifier: string,
  payload: Uint8Array,
  started: number,
): Promise<Render> {
  const out = await lambda.send(
    new InvokeWithResponseStreamCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: payload }),
  );
  const executed = out.ExecutedVersion;
  const split = new PreludeSplitter();
  let failure: string | undefined;
  for await (const event of out.EventStream ?? []) {
    if (event.PayloadChunk?.Payload !== undefined) split.push(event.PayloadChunk.Payload);
    const code = event.InvokeComplete?.ErrorCode;
    if (code) failure = `${code}: ${event.InvokeComplete?.ErrorDetails ?? ''}`;
  }
  const ms = performance.now() - started;
  if (failure !== undefined) return { ok: false, executed, ms, error: failure };
  if (split.prelude === undefined) return { ok: false, executed, ms, error: 'no prelude' };
  const body = split.bodyBuffer();
  if (split.prelude.statusCode !== 200) {
    const coded = parseFailureBody(body);
    return {
      ok: false,
      executed,
      ms,
      error: coded ? `${coded.code}: ${coded.message}` : `status ${split.prelude.statusCode}`,
    };
  }
  const facts = renderFacts(split.prelude);
  if (body.length !== facts.bytes) return { ok: false, executed, ms, error: `${body.length} of ${facts.bytes} bytes` };
  return { ok: true, executed, ms, body, contentType: facts.contentType, width: facts.width, height: facts.height };
}
