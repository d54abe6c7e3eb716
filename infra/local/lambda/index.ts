export { startLocalLambda, type LocalLambda, type LambdaStats } from './server.js';
export type { LambdaCounters } from './pool.js';
export type { LocalLambdaOptions, LocalFunctionOptions } from './options.js';
export type { FunctionErrorBody } from './protocol.js';
export type { LambdaContext } from './runtime-context.js';
export { MAX_SYNC_REQUEST_BYTES, MAX_SYNC_RESPONSE_BYTES, MAX_EVENT_REQUEST_BYTES } from './limits.js';
