import { parseCatalog, parseRules, warmSet, type Rules } from '@marquee/preprocessor/prewarm-consumer';
import type { Planner } from './engine.js';

/** The prewarm planner of `@marquee/preprocessor`: its rules loader and warm set. */
export const planner: Planner<Rules> = { parseRules, parseCatalog, warmSet };
