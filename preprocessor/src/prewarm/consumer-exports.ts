/**
 * `@marquee/preprocessor/prewarm-consumer`: what the AWS prewarm consumer (infra/aws/prewarm-consumer)
 * bundles of the Preprocessor: the rules loader, the document reader (file or S3, polled by ETag), the
 * warm set and the prewarm render request. Nothing here may import sharp or
 * fastify: the consumer is a small Lambda of its own.
 */
export { parseRules, parseCatalog } from '../rules/load.js';
export type { Rules, Catalog } from '../rules/schema.js';
export { warmSet, type WarmEntry, type WarmFilter } from './warm-set.js';
export { prewarmObjectKey, prewarmRequest, type PrewarmTarget } from './request.js';
export { openDocument, type DocumentSource, type DocumentSnapshot } from '../rules/source.js';
