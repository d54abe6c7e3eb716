/** Prewarm: render a warm set into the derivative store ahead of requests. */
export { Prewarmer, type PrewarmProgress, type PrewarmSummary, type RunOptions } from './engine.js';
export { warmSet, type WarmEntry, type WarmFilter } from './warm-set.js';
export { warmSetOfRulesChange } from './rules-change.js';
export { changedArtwork, type ArtworkRef } from './catalog-diff.js';
export { warmSetOfChange } from './on-reload.js';
export { standalonePrewarmer, defaultConcurrency } from './standalone.js';
