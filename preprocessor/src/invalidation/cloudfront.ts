import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateInvalidationCommand,
  GetDistributionConfigCommand,
  GetInvalidationCommand,
  TooManyInvalidationsInProgress,
  type CloudFrontClient,
} from '@aws-sdk/client-cloudfront';
import type { InvalidationResult, TagInvalidator, TaggedInvalidation } from './invalidator.js';
import { isWildcard, normalisePaths } from './paths.js';
import { normaliseTags } from './tags.js';

/**
 * CloudFront's invalidation limits, per distribution (Developer Guide, "Concurrent invalidation
 * request maximum": https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html):
 * - individual files: up to 3,000 in progress at one time, in any mix of requests (one request of
 *   3,000 files is allowed, so 3,000 is also the most one request can carry);
 * - wildcard paths (`…*`): up to 15 in progress at one time, counted apart from the files.
 * A request past either is refused with `TooManyInvalidationsInProgress`. So a batch carries at
 * most 3,000 files and 15 wildcards, and a second batch exists only when the first filled one of
 * the budgets: it is sent once the first has completed.
 *
 * Cache tags (Developer Guide, "What you need to know when invalidating tags":
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-tags.html):
 * a tag is an item `#<tag>` in the same `Paths.Items` list, beside paths in one batch; "tag
 * invalidation items count toward the same concurrent invalidation limits as path items. Each tag
 * item counts as one invalidation path", and is priced as one. The page does not say which of the
 * two budgets; a tag has no `*`, so it is counted here with the files. Were CloudFront to count it
 * with the wildcards, a refused batch is waited out and retried like any other (see `#create`).
 * Tag items work only on a distribution with `CacheTagConfig` (the CDK app's `cdn.ts` sets it).
 */
export const CLOUDFRONT_LIMITS = { filesInProgress: 3000, wildcardsInProgress: 15 } as const;

/** The SDK's own waiter for invalidations polls every 20 s at the least: CloudFront takes minutes. */
const DEFAULT_POLL_MS = 20_000;
/** Several batches of 3,000, each a few minutes: past half an hour something else is wrong. */
const DEFAULT_MAX_WAIT_MS = 30 * 60_000;

export interface CloudFrontInvalidatorOptions {
  client: CloudFrontClient;
  /** The distribution (the CDK app's output). */
  distributionId: string;
  /** How often an invalidation in progress is checked, and the pause before retrying a refused one. */
  pollMs?: number;
  /** Longest wait for CloudFront's in-progress budget, all batches together, before giving up. */
  maxWaitMs?: number;
  /** Progress (a pino logger fits). */
  logger?: { info(obj: object, msg: string): void };
  /**
   * Before the first tag item, check that the distribution has a `CacheTagConfig` (needs
   * `cloudfront:GetDistributionConfig`). Default true: without one CloudFront stores no tags and
   * accepts `#tag` items that purge nothing, so a publish would report success and serve stale looks.
   */
  verifyCacheTags?: boolean;
}

/**
 * The items (sorted, unique) in as few requests as the limits allow: files and `#tag` items by
 * 3,000, wildcards by 15, the n-th of each going together.
 */
export function planBatches(paths: readonly string[]): string[][] {
  const wildcards = paths.filter(isWildcard);
  const files = paths.filter((p) => !isWildcard(p));
  const count = Math.max(
    Math.ceil(files.length / CLOUDFRONT_LIMITS.filesInProgress),
    Math.ceil(wildcards.length / CLOUDFRONT_LIMITS.wildcardsInProgress),
  );
  return Array.from({ length: count }, (_, i) => [
    ...files.slice(i * CLOUDFRONT_LIMITS.filesInProgress, (i + 1) * CLOUDFRONT_LIMITS.filesInProgress),
    ...wildcards.slice(i * CLOUDFRONT_LIMITS.wildcardsInProgress, (i + 1) * CLOUDFRONT_LIMITS.wildcardsInProgress),
  ]);
}

/**
 * The batch's CallerReference: a hash of the reason and the batch, nothing else (no time). A retried
 * publish sends the same batches with the same references, and CloudFront answers with the
 * invalidations it already made instead of making (and billing) new ones. The reason must therefore
 * name the publish (a rules version, an artwork version): two publishes with one reason and the same
 * paths are one invalidation.
 */
export function callerReference(batch: readonly string[], reason: string): string {
  const hash = createHash('sha256').update(reason).update('\0').update(batch.join('\n')).digest('hex');
  return `marquee-${hash.slice(0, 40)}`;
}

/** CloudFront's spelling of a tag in an invalidation batch. */
export const TAG_ITEM_PREFIX = '#';

/** Targeted invalidation of a CloudFront distribution through `CreateInvalidation`: paths, and `#tag` items. */
export class CloudFrontInvalidator implements TagInvalidator {
  readonly name = 'cloudfront';
  readonly supportsTags = true;
  readonly #client: CloudFrontClient;
  readonly #distributionId: string;
  readonly #pollMs: number;
  readonly #maxWaitMs: number;
  readonly #logger: CloudFrontInvalidatorOptions['logger'];
  readonly #verifyCacheTags: boolean;
  #cacheTagHeader: Promise<string | undefined> | undefined;

  constructor(options: CloudFrontInvalidatorOptions) {
    this.#client = options.client;
    this.#distributionId = options.distributionId;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.#logger = options.logger;
    this.#verifyCacheTags = options.verifyCacheTags ?? true;
  }

  async invalidate(paths: readonly string[], reason: string): Promise<InvalidationResult> {
    const unique = normalisePaths(paths);
    return { ...(await this.#send(unique, reason)), paths: unique.length };
  }

  /** Tags as `#tag` items and the paths, in the same batches (a tag counts as one file). */
  async invalidateTagged(plan: TaggedInvalidation, reason: string): Promise<InvalidationResult> {
    const tags = normaliseTags(plan.tags);
    const paths = normalisePaths(plan.paths);
    if (tags.length > 0 && this.#verifyCacheTags) {
      this.#cacheTagHeader ??= this.#readCacheTagHeader();
      if ((await this.#cacheTagHeader) === undefined)
        throw new Error(
          `CloudFront distribution ${this.#distributionId} has no CacheTagConfig: it stores no cache tags, so ` +
            'tag invalidations would purge nothing. Deploy the CDK app (infra/aws sets it) or invalidate by path',
        );
    }
    const items = [...tags.map((tag) => `${TAG_ITEM_PREFIX}${tag}`), ...paths];
    return { ...(await this.#send(items, reason)), paths: paths.length, tags: tags.length };
  }

  async #send(unique: string[], reason: string): Promise<Omit<InvalidationResult, 'paths'>> {
    const batches = planBatches(unique);
    const deadline = Date.now() + this.#maxWaitMs;
    const ids: string[] = [];
    for (const [i, batch] of batches.entries()) {
      // The batch before filled a budget: CloudFront refuses more until it completes.
      if (i > 0) await this.#completed(ids[i - 1]!, deadline);
      const id = await this.#create(batch, callerReference(batch, reason), deadline);
      ids.push(id);
      this.#logger?.info(
        { distributionId: this.#distributionId, id, batch: i + 1, of: batches.length, items: batch.length, reason },
        'cloudfront invalidation created',
      );
    }
    return { backend: this.name, requests: batches.length, ids };
  }

  async #create(batch: string[], reference: string, deadline: number): Promise<string> {
    for (;;) {
      try {
        const out = await this.#client.send(
          new CreateInvalidationCommand({
            DistributionId: this.#distributionId,
            InvalidationBatch: { CallerReference: reference, Paths: { Quantity: batch.length, Items: batch } },
          }),
        );
        const id = out.Invalidation?.Id;
        if (id === undefined) throw new Error('CloudFront answered CreateInvalidation without an invalidation id');
        return id;
      } catch (err) {
        // Someone else's invalidations fill the budget: wait for them, as long as the deadline allows.
        if (!(err instanceof TooManyInvalidationsInProgress) || Date.now() + this.#pollMs > deadline) throw err;
        this.#logger?.info(
          { distributionId: this.#distributionId, retryInMs: this.#pollMs },
          'invalidations in progress: waiting',
        );
        await sleep(this.#pollMs);
      }
    }
  }

  /**
   * The distribution's tag header; `unchecked` when the caller may not read the configuration (a
   * role granted only the invalidation actions): the tags are sent, and the log says so.
   */
  async #readCacheTagHeader(): Promise<string | undefined> {
    try {
      const out = await this.#client.send(new GetDistributionConfigCommand({ Id: this.#distributionId }));
      return out.DistributionConfig?.CacheTagConfig?.HeaderName;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((err as { name?: string }).name !== 'AccessDenied' && status !== 403) throw err;
      this.#logger?.info(
        { distributionId: this.#distributionId },
        'may not read the distribution config (cloudfront:GetDistributionConfig): its CacheTagConfig is unchecked',
      );
      return 'unchecked';
    }
  }

  async #completed(id: string, deadline: number): Promise<void> {
    for (;;) {
      const out = await this.#client.send(new GetInvalidationCommand({ DistributionId: this.#distributionId, Id: id }));
      if (out.Invalidation?.Status === 'Completed') return;
      if (Date.now() + this.#pollMs > deadline)
        throw new Error(
          `CloudFront invalidation ${id} still ${out.Invalidation?.Status ?? 'unknown'}: gave up waiting`,
        );
      await sleep(this.#pollMs);
    }
  }
}
