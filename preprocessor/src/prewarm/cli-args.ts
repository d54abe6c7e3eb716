/** The command line of `npm run prewarm` (the CLI is `cli/prewarm.ts`), and its progress bar. */
import { parseArgs } from 'node:util';
import { ConfigError, configProblem, readInteger } from '@marquee/shared';
import type { PrewarmProgress } from './engine.js';
import type { WarmFilter } from './warm-set.js';

export const USAGE =
  'usage: npm run prewarm -- [--title ID] [--type T] [--locale L] [--rules FILE|s3://bucket/key] ' +
  '[--catalog FILE|s3://bucket/key] [--local] [--concurrency N] [--dry-run]';

const MAX_CONCURRENCY = 1000;

export interface PrewarmArgs {
  filter: WarmFilter;
  rules: string | undefined;
  catalog: string | undefined;
  local: boolean;
  concurrency: number | undefined;
  dryRun: boolean;
}

export function parsePrewarmArgs(argv: readonly string[]): PrewarmArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      title: { type: 'string' },
      type: { type: 'string' },
      locale: { type: 'string' },
      rules: { type: 'string' },
      catalog: { type: 'string' },
      local: { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = readInteger(values.concurrency, 1, MAX_CONCURRENCY);
    if (concurrency === undefined)
      throw new ConfigError([
        configProblem('--concurrency', `an integer from 1 to ${MAX_CONCURRENCY}`, values.concurrency),
      ]);
  }
  const filter: WarmFilter = {};
  if (values.title !== undefined) filter.titleId = values.title;
  if (values.type !== undefined) filter.type = values.type;
  if (values.locale !== undefined) filter.locale = values.locale;
  return {
    filter,
    rules: values.rules,
    catalog: values.catalog,
    local: values.local,
    concurrency,
    dryRun: values['dry-run'],
  };
}

/** `[#########-----------]  45/120  rendered 40  skipped 5  failed 0  12.3 s` */
export function progressBar(p: PrewarmProgress, width = 24): string {
  const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  return `[${bar}] ${String(p.done).padStart(String(p.total).length)}/${p.total}  rendered ${p.rendered}  skipped ${p.skipped}  failed ${p.failed}  ${(p.ms / 1000).toFixed(1)} s`;
}
