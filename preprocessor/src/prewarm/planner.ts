/**
 * What the AWS prewarm consumer bundles (infra/aws/prewarm-consumer): the rules loader and the
 * warm set. Nothing here may import sharp or fastify: the consumer is a small Lambda of its own.
 */
export { parseRules, parseCatalog } from '../rules/load.js';
export type { Rules, Catalog } from '../rules/schema.js';
export { warmSet, type WarmEntry, type WarmFilter } from './warm-set.js';
