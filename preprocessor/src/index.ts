export { buildApp, s3ClientFor, type AppDeps } from './app.js';
export { loadConfig, ConfigError, type PreprocessorConfig, type ConfigOverrides } from './config.js';
export * from './invalidation/index.js';
export {
  derivativeUrls,
  eachDerivativeUrl,
  type DerivativeUrl,
  type AutoVariant,
  type UniverseFilter,
  type UniverseOptions,
} from './rules/universe.js';
export { diffRules, type RulesDiff, type DiffCounts, type DiffCosts, type DiffOptions } from './rules/diff.js';
export {
  publishRules,
  rollbackRules,
  listHistory,
  type PublishOptions,
  type PublishResult,
  type PrewarmRequest,
  type HistoryEntry,
} from './publish/index.js';
export { parseRules, parseCatalog } from './rules/load.js';
export {
  warmSet,
  warmSetOfRulesChange,
  standalonePrewarmer,
  Prewarmer,
  type WarmEntry,
  type WarmFilter,
} from './prewarm/index.js';
export { checkUpload, type CheckedImage } from './studio/image-check.js';
export { MAX_UPLOAD_BYTES } from './studio/limits.js';
export { canonicalLocale } from './routes/artwork-url.js';
