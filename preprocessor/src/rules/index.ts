/** The artwork rules engine: documents, their poller, and request resolution. */
export * from './schema.js';
export { parseRules, parseCatalog, RulesError, isRulesError } from './load.js';
export {
  openDocument,
  isS3Location,
  MAX_DOCUMENT_BYTES,
  type DocumentSource,
  type DocumentSnapshot,
} from './source.js';
export * from './poller.js';
export * from './resolve.js';
export { cacheControl } from './cache-control.js';
export { localeChain, isLocaleTag } from './locale.js';
