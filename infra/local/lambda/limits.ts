/**
 * Lambda's own quotas, reproduced so that what works locally works on AWS
 * (and what AWS refuses is refused here first).
 */

/** Synchronous invoke request payload: Lambda refuses more with 413 RequestTooLargeException. */
export const MAX_SYNC_REQUEST_BYTES = 6_291_456;
/**
 * Synchronous response payload. Lambda's error message names 6291556 bytes
 * (6 MB plus a small envelope allowance), so that is the line used here too.
 */
export const MAX_SYNC_RESPONSE_BYTES = 6_291_556;
/** Asynchronous (Event) request payload: 1 MB since AWS raised it from 256 KB in 2025. */
export const MAX_EVENT_REQUEST_BYTES = 1_048_576;
/** Init phase budget: Lambda gives a cold start 10 s before it gives up on the environment. */
export const INIT_TIMEOUT_MS = 10_000;
/** Bytes of log tail returned with `LogType: Tail`, as Lambda's `X-Amz-Log-Result`. */
export const LOG_TAIL_BYTES = 4096;
/**
 * Event invocations wait here for a free environment, as Lambda's internal
 * queue does; bounded so a runaway caller cannot exhaust the endpoint's memory.
 */
export const MAX_QUEUED_EVENTS = 1000;

/** The account id in the ARNs this endpoint reports: the one AWS uses in its documentation. */
export const LOCAL_ACCOUNT_ID = '123456789012';

/**
 * An `UpdateFunctionCode` request: Lambda takes a zip of up to 50 MB directly (more goes through
 * S3), sent base64 in JSON, so about 4/3 of that.
 */
export const MAX_CODE_REQUEST_BYTES = 70_167_211;
