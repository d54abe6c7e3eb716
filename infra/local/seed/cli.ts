/**
 * `node infra/local/dist/seed/cli.js --endpoint http://127.0.0.1:4568 [--bucket marquee-sources] [--titles 24] [--force]`
 *
 * Seeds a (local) S3 bucket with generated sample artwork and its catalog; creates the bucket if needed.
 */
import { parseArgs } from 'node:util';
import { BucketAlreadyOwnedByYou, CreateBucketCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { ConfigError, LogLevelVar, Type, configProblem, readEnv, readInteger } from '@marquee/shared';
import { localS3Client } from '../s3/index.js';
import { seedSamples } from './index.js';

/** The seed's own variable; the titles it writes are bounded so a typo cannot fill the disk. */
const SeedEnv = Type.Object({ LOG_LEVEL: LogLevelVar({ default: 'info' }) });
const MAX_TITLES = 10_000;

const USAGE = 'usage: cli.js --endpoint <url> [--bucket marquee-sources] [--titles 24] [--force]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      endpoint: { type: 'string' },
      bucket: { type: 'string', default: 'marquee-sources' },
      titles: { type: 'string', default: '24' },
      force: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.endpoint === undefined) throw new Error('--endpoint is required');
  const titles = readInteger(values.titles, 1, MAX_TITLES);
  if (titles === undefined)
    throw new ConfigError([configProblem('--titles', `an integer from 1 to ${MAX_TITLES}`, values.titles)]);
  const { LOG_LEVEL } = readEnv(SeedEnv);
  const logger = pino({ name: 'seed', level: LOG_LEVEL, timestamp: pino.stdTimeFunctions.isoTime });
  const client = localS3Client(values.endpoint);
  try {
    await client.send(new CreateBucketCommand({ Bucket: values.bucket })).catch((err: unknown) => {
      if (!(err instanceof BucketAlreadyOwnedByYou)) throw err;
    });
    const { catalog, seeded } = await seedSamples({
      client,
      sourcesBucket: values.bucket,
      titles,
      force: values.force,
      logger,
    });
    logger.info(
      { bucket: values.bucket, seeded, titles: Object.keys(catalog.titles).length },
      seeded ? 'seed done' : 'catalog present: nothing to do (use --force)',
    );
  } finally {
    client.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`seed: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(1);
});
