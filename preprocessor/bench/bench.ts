// npm run bench -w preprocessor [-- --duration 10 --concurrency 4 --hit-connections 50]
// The Preprocessor's share of loadtest's bench, in one run: cache-hit requests/s against a bare
// Fastify route returning the same bytes (goal ≥ 0.7), and uncached end-to-end images/s against
// raw sharp on the same work (goal ≥ 0.85), with p50/p99. wrk drives the HTTP arms (a Node load
// generator would eat the two cores); raw sharp runs in-process.
import { benchMain } from '../../loadtest/bench/main.js';

await benchMain(process.argv.slice(2), 'preprocessor-bench', {
  groups: new Set(['uncached', 'hit']),
  billboards: false,
  uncachedGoal: 0.85,
});
