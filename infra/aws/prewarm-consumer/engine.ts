import { randomUUID } from 'node:crypto';
import { InvokeWithResponseStreamCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { collectRenderStream, parseFailureBody, type Catalog } from '@marquee/shared';
import {
  openDocument,
  prewarmObjectKey,
  prewarmRequest,
  type DocumentSource,
  type PrewarmTarget,
} from '@marquee/preprocessor/prewarm-consumer';
import type { Engine, Log, PlanFilter, WarmEntry, World } from './consume.js';
import type { ConsumerEnv } from './env.js';

/**
 * The consumer's engine on AWS: rules and catalog from S3 (or the bundle), the warm set from the
 * prewarm planner of `@marquee/preprocessor`, the store checked with a HEAD, a render invoked on the
 * Generator's `live` alias with `store: true` (the Generator writes the object; this function never does).
 */

/** One image of the warm set as the planner gives it (`WarmEntry` of `@marquee/preprocessor`). */
export type PlannedRender = PrewarmTarget;

/** The prewarm planner: the rules loader and the warm set (`@marquee/preprocessor`'s `warmSet`). */
export interface Planner<R> {
  parseRules(text: string, origin: string): R;
  parseCatalog(text: string, origin: string): Catalog;
  warmSet(rules: R, catalog: Catalog, sourcesBucket: string, filters: readonly PlanFilter[]): readonly PlannedRender[];
}

/** A prewarm reply carries no image: a failure document at most. */
const MAX_FAILURE_BYTES = 64 * 1024;

interface LoadedWorld<R> extends World {
  rules: R;
}

interface Entry extends WarmEntry {
  render: PlannedRender;
}

/** A document kept between invocations of a warm container: refetched only when its ETag moved. */
interface Cached<T> {
  etag: string;
  value: T;
}

export function createEngine<R>(env: ConsumerEnv, log: Log, planner: Planner<R>): Engine<LoadedWorld<R>, Entry> {
  const s3 = new S3Client({});
  // One attempt: a timed-out invoke the SDK retried would leave the first render running, and the
  // budget counts each render once. SQS redelivers the record instead.
  const lambda = new LambdaClient({
    maxAttempts: 1,
    requestHandler: { requestTimeout: env.MARQUEE_GENERATOR_TIMEOUT_MS },
  });
  const bucket = env.MARQUEE_DERIVATIVES_BUCKET;
  let rules: Cached<R> | undefined;
  let catalog: Cached<Catalog> | undefined;
  // The Preprocessor's document reader: a conditional GET for an S3 object (a 304 when its ETag
  // has not moved), a stat and a hash for the rules baked into the bundle.
  const rulesDocument = openDocument(env.MARQUEE_RULES, s3);
  const catalogDocument = openDocument(env.MARQUEE_CATALOG, s3);

  /** The document's text, or undefined when it is still `etag`. */
  async function fetchText(
    doc: DocumentSource,
    etag: string | undefined,
  ): Promise<{ text: string; etag: string } | undefined> {
    const snapshot = await doc.fetch(etag);
    return snapshot === 'unchanged' ? undefined : snapshot;
  }

  return {
    async load() {
      const [r, c] = await Promise.all([
        fetchText(rulesDocument, rules?.etag),
        fetchText(catalogDocument, catalog?.etag),
      ]);
      if (r !== undefined) rules = { etag: r.etag, value: planner.parseRules(r.text, env.MARQUEE_RULES) };
      if (c !== undefined) catalog = { etag: c.etag, value: planner.parseCatalog(c.text, env.MARQUEE_CATALOG) };
      if (rules === undefined || catalog === undefined) throw new Error('rules or catalog missing after load');
      if (r !== undefined || c !== undefined) log.info({ rules: rules.etag, catalog: catalog.etag }, 'prewarm: loaded');
      return { rules: rules.value, catalog: catalog.value };
    },

    plan(world, filter) {
      return planner
        .warmSet(world.rules, world.catalog, env.MARQUEE_SOURCES_BUCKET, [filter])
        .map((render) => ({ id: prewarmObjectKey(render), render }));
    },

    async isStored(entry) {
      try {
        await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: entry.id }));
        return true;
      } catch (err) {
        // A 404 needs s3:ListBucket on the bucket (granted); without it S3 would answer 403.
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw err;
      }
    },

    async render(entry) {
      const request = prewarmRequest(entry.render, bucket, `prewarm-${randomUUID()}`);
      // The Generator streams its reply; a prewarm render's is a prelude alone (it was stored first).
      const out = await lambda.send(
        new InvokeWithResponseStreamCommand({
          FunctionName: env.MARQUEE_GENERATOR_FUNCTION,
          Qualifier: env.MARQUEE_GENERATOR_QUALIFIER,
          Payload: Buffer.from(JSON.stringify(request)),
        }),
      );
      if (out.EventStream === undefined) throw new Error(`Generator streamed nothing for ${entry.id}`);
      const reply = await collectRenderStream(out.EventStream, MAX_FAILURE_BYTES);
      if ('functionError' in reply) throw new Error(`Generator error: ${reply.functionError.slice(0, 200)}`);
      if (reply.prelude.statusCode === 200) return 'rendered';
      const failure = parseFailureBody(reply.body);
      const what = failure === undefined ? `status ${reply.prelude.statusCode}` : `${failure.code}: ${failure.message}`;
      // A 4xx is about the image (missing, too large, not an image): the same request fails again.
      if (reply.prelude.statusCode < 500) return { refused: what };
      throw new Error(`Generator failed ${entry.id}: ${what}`);
    },
  };
}
