export type { InvalidationResult, Invalidator } from './invalidator.js';
export {
  CloudFrontInvalidator,
  CLOUDFRONT_LIMITS,
  callerReference,
  planBatches,
  type CloudFrontInvalidatorOptions,
} from './cloudfront.js';
export { VarnishInvalidator, type VarnishInvalidatorOptions } from './varnish.js';
export { normalisePaths, wildcardRegex, MAX_PATH_LENGTH } from './paths.js';
export { INVALIDATION_PATTERN, parseInvalidationTarget, type InvalidationTarget } from './target.js';
export { invalidatorFor, type InvalidatorDeps } from './backends.js';
export { supportsTags, type TagInvalidator, type TaggedInvalidation } from './invalidator.js';
export { normaliseTags } from './tags.js';
export {
  estimateItems,
  planWaves,
  renderBudget,
  resumeWaves,
  startWaves,
  waveLine,
  wavesFile,
  type InvalidationItems,
  type RenderBudget,
  type RenderEstimateInput,
  type RunWavesOptions,
  type Wave,
  type WaveItem,
  type WavePacing,
  type WaveProgress,
  type WaveState,
  type WaveStore,
  type WavesResult,
} from './waves.js';
