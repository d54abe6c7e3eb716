import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { MAX_EVENT_PAYLOAD_BYTES, type StoreRequest } from '@marquee/shared';
import type { Metrics } from '../plugins/metrics.js';
import { OutageLog, type StoreLogger } from './outage.js';

/** A render to keep: what the store request carries, with the bytes still raw. */
export interface StoreWrite {
  /** The id of the request it was rendered for. */
  id: string;
  target: StoreRequest['target'];
  contentType: StoreRequest['contentType'];
  width: number;
  height: number;
  body: Buffer;
}

export interface StoreWriterOptions {
  lambda: LambdaClient;
  functionName: string;
  qualifier: string | undefined;
  /** Bytes of renders waiting; past it a write is dropped (counted). */
  maxQueueBytes: number;
  /** Event invocations in flight at once. */
  concurrency?: number;
  /** The asynchronous invocation payload limit (Lambda's: 1 MB). */
  maxEventBytes?: number;
  /**
   * Generator slots free now (`MARQUEE_MAX_INFLIGHT` less renders in flight): a store request is
   * Lambda work too, so it is sent only while live renders leave room, and waits otherwise.
   * Absent: always room.
   */
  freeSlots?: () => number;
  metrics: Pick<Metrics, 'storeWrites' | 'storeQueueBytes'>;
  logger: StoreLogger;
}

/** How often writes held back by busy slots look again. */
const BUSY_POLL_MS = 50;

/** Event invocations in flight: each is accepted in milliseconds (202), the PUT runs in the Generator. */
const DEFAULT_CONCURRENCY = 4;
/** Longest wait for Lambda to accept one event. */
const SEND_TIMEOUT_MS = 5000;

/** Base64 length of `n` bytes. */
function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** The event payload size of a write, without building it. */
export function eventBytes(write: Omit<StoreWrite, 'body'> & { body: { length: number } }): number {
  const envelope: StoreRequest = {
    v: 1,
    kind: 'store',
    id: write.id,
    target: write.target,
    contentType: write.contentType,
    width: write.width,
    height: write.height,
    body: '',
  };
  return Buffer.byteLength(JSON.stringify(envelope)) + base64Length(write.body.length);
}

/**
 * Hands renders back to the Generator to store, after the reply: an asynchronous (`Event`)
 * invocation per render, from a bounded queue that never delays a reply (a full queue drops the
 * write, counted). The Generator PUTs in the foreground of that invocation, so nothing runs on
 * Lambda after a response, the client never waits for a PUT, and the Preprocessor needs no write
 * permission on the store. Outputs whose event would pass Lambda's payload limit are skipped
 * (counted): a miss on the store later renders them again.
 */
export class StoreWriter {
  private readonly queue: StoreWrite[] = [];
  /** Targets queued or in flight: one write per object. */
  private readonly pending = new Set<string>();
  private queuedBytes = 0;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly outage: OutageLog;
  private readonly concurrency: number;
  private readonly maxEventBytes: number;

  constructor(private readonly opts: StoreWriterOptions) {
    this.outage = new OutageLog(opts.logger, 'derivative store write (Event invocation)');
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    this.maxEventBytes = opts.maxEventBytes ?? MAX_EVENT_PAYLOAD_BYTES;
  }

  /** Queues a write and returns at once; the invocation happens on a later turn of the event loop. */
  enqueue(write: StoreWrite): void {
    const { storeWrites } = this.opts.metrics;
    if (this.closed || this.pending.has(write.target.key)) return;
    if (eventBytes(write) > this.maxEventBytes) {
      storeWrites.inc({ result: 'skipped' });
      return;
    }
    if (this.queuedBytes + write.body.length > this.opts.maxQueueBytes) {
      storeWrites.inc({ result: 'dropped' });
      return;
    }
    this.queue.push(write);
    this.pending.add(write.target.key);
    this.queuedBytes += write.body.length;
    this.opts.metrics.storeQueueBytes.set(this.queuedBytes);
    setImmediate(() => this.pump());
  }

  /** Writes queued or being handed over. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves once nothing is queued or in flight (tests, and a drain on close). */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking writes. Those queued are still handed over for up to `graceMs` (a drain on
   * shutdown); what is left then is dropped (counted).
   */
  async close(graceMs = 0): Promise<void> {
    if (graceMs > 0 && this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    clearTimeout(this.retry);
    for (const write of this.queue.splice(0)) this.settle(write, 'dropped');
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.inFlight < this.concurrency) {
      // Live renders first: with no slot free, the queue waits (bounded; a full queue drops).
      if (this.inFlight >= (this.opts.freeSlots?.() ?? Infinity)) {
        this.retry ??= setTimeout(() => {
          this.retry = undefined;
          this.pump();
        }, BUSY_POLL_MS);
        return;
      }
      const write = this.queue.shift();
      if (write === undefined) return;
      this.inFlight++;
      void this.send(write).then((result) => {
        this.inFlight--;
        this.settle(write, result);
        this.pump();
      });
    }
  }

  private async send(write: StoreWrite): Promise<'sent' | 'failed'> {
    const request: StoreRequest = {
      v: 1,
      kind: 'store',
      id: write.id,
      target: write.target,
      contentType: write.contentType,
      width: write.width,
      height: write.height,
      body: write.body.toString('base64'),
    };
    try {
      await this.opts.lambda.send(
        new InvokeCommand({
          FunctionName: this.opts.functionName,
          Qualifier: this.opts.qualifier,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(request)),
        }),
        { abortSignal: AbortSignal.timeout(SEND_TIMEOUT_MS) },
      );
      this.outage.succeeded();
      return 'sent';
    } catch (err) {
      this.outage.failed(err, { key: write.target.key });
      return 'failed';
    }
  }

  private settle(write: StoreWrite, result: 'sent' | 'failed' | 'dropped'): void {
    this.opts.metrics.storeWrites.inc({ result });
    this.pending.delete(write.target.key);
    this.queuedBytes -= write.body.length;
    this.opts.metrics.storeQueueBytes.set(this.queuedBytes);
    if (this.pending.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
