/** Publishing rules: write where the Preprocessors read them, keep a history, invalidate and prewarm. */
export {
  publishRules,
  rollbackRules,
  listHistory,
  type PublishOptions,
  type PublishResult,
  type PrewarmRequest,
  type HistoryOptions,
} from './publish.js';
export {
  HistoryEntrySchema,
  ImpactSummarySchema,
  HISTORY_ID_PATTERN,
  isHistoryId,
  type HistoryEntry,
  type ImpactSummary,
} from './history.js';
export { openTarget, PublishConflictError, HISTORY_DIR, type RulesTarget, type Versioned } from './target.js';
