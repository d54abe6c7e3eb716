import type { Context } from 'aws-lambda';

/**
 * The `context` a handler receives: Lambda's own type (`@types/aws-lambda`), less the
 * deprecated `done`/`fail`/`succeed` that Node.js runtimes since 8.10 no longer pass.
 */
export type LambdaContext = Omit<Context, 'done' | 'fail' | 'succeed'>;

/** What Lambda's runtime tells a function about itself, from the variables it sets. */
export interface RuntimeIdentity {
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
}

/**
 * The emulated runtime's own configuration: the `AWS_LAMBDA_*` variables the endpoint set for
 * this environment (options.ts), read once when the environment starts. This is the runtime's
 * bootstrap reading what Lambda gives it, kept free of imports so an environment starts fast.
 */
export function runtimeIdentity(env: Readonly<Record<string, string | undefined>> = process.env): RuntimeIdentity {
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
  };
}
