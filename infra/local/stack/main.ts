#!/usr/bin/env node
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { ConfigError, configOrExit, counted, exitOnConfigError } from '@marquee/shared';
import { importedUrls } from '../import/urls.js';
import { watchFolder } from '../import/watch.js';
import { banner, fileNotes, sampleUrls } from './banner.js';
import { invocationDir, localStackSettings, nodeSupportNotice, quietSdkNodeWarning } from './env.js';
import { stackLogger, startStack } from './stack.js';

/** Longest drain before the process exits anyway: in-flight renders are bounded by their deadline. */
const DRAIN_MS = 30_000;
const USAGE = 'usage: npm start -- [--images DIR] [--cdn]';

/** `npm start`: the embedded stack on 127.0.0.1, configured from the environment (see README). */
const env = configOrExit(() => localStackSettings());
const flags = configOrExit(() => {
  let values;
  try {
    // --cdn: Varnish in front, as CloudFront is on AWS. --images: your own artwork instead of the samples.
    ({ values } = parseArgs({
      options: { cdn: { type: 'boolean', default: false }, images: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  // npm runs the script from the repository's root: a relative folder is where `npm start` was typed.
  const images = values.images === undefined ? undefined : path.resolve(invocationDir(), values.images);
  if (images !== undefined && !statSync(images, { throwIfNoEntry: false })?.isDirectory())
    throw new ConfigError(`--images: ${images} is not a folder\n${USAGE}`);
  return { cdn: values.cdn, images };
});
quietSdkNodeWarning();
const log = stackLogger('stack', { level: env.LOG_LEVEL });
const progress = (line: string): void => void process.stdout.write(`marquee: ${line}\n`);

const stack = await startStack({
  host: env.HOST,
  port: env.PORT,
  s3Port: env.MARQUEE_LOCAL_S3_PORT,
  lambdaPort: env.MARQUEE_LOCAL_LAMBDA_PORT,
  dataDir: path.resolve(env.MARQUEE_DATA_DIR),
  lambdaConcurrency: env.MARQUEE_LOCAL_LAMBDA_CONCURRENCY,
  lambdaTimeoutMs: env.MARQUEE_LOCAL_LAMBDA_TIMEOUT_S * 1000,
  lambdaMemoryMb: env.MARQUEE_LOCAL_LAMBDA_MEMORY_MB,
  cdn: flags.cdn && { port: env.MARQUEE_LOCAL_CDN_PORT },
  ...(flags.images !== undefined ? { images: flags.images } : {}),
  // The first images answer while the rest of the samples are rendered.
  seedInBackground: true,
  progress,
}).catch((err: unknown) => {
  exitOnConfigError(err); // e.g. --cdn without Varnish installed
  throw err;
});

// With the CDN, the URLs to try go through it; /metrics is not routed there (as on CloudFront).
const base = stack.cdnUrl ?? stack.url;
const sourcesBucket = stack.app.config.sourcesBucket;
const { images, seed } = stack;
const urls = images
  ? importedUrls(base, stack.app.rulesPoller.current().rules, images.report, sourcesBucket)
  : sampleUrls(base);
function serving(): string {
  if (images) {
    const titles = Object.keys(images.report.catalog.titles).length;
    return `Serving ${counted(images.report.images.length, 'image')} of ${counted(titles, 'title')} from ${images.dir} (a change there is re-imported). Try:`;
  }
  if (seed && seed.ready < seed.titles)
    return `Sample artwork: ${seed.ready} of ${seed.titles} titles rendered, the rest in the background (a log line says when). Try:`;
  return `Sample artwork: ${counted(seed?.titles ?? 0, 'title')}. Try:`;
}
process.stdout.write(
  banner({
    seconds: performance.now() / 1000,
    base,
    urls,
    serving: serving(),
    ...(images ? { skipped: images.report.skipped, warnings: images.report.warnings } : {}),
    studio: { url: `${base}/studio`, token: stack.studioTokenGenerated ? stack.studioToken : undefined },
    ...(stack.cdnUrl ? { cdn: { url: stack.cdnUrl, origin: stack.url } } : {}),
    metricsUrl: stack.metricsUrl ?? `${stack.url}/metrics`,
    dataDir: stack.dataDir,
    rules: stack.rules,
    notice: nodeSupportNotice(),
  }),
);
// The same, for machines (no token: logs are shipped and kept).
log.info(
  {
    preprocessor: stack.url,
    ...(stack.cdnUrl ? { cdn: stack.cdnUrl } : {}),
    metrics: stack.metricsUrl ?? `${stack.url}/metrics`,
    rules: stack.rules,
    s3: stack.s3Endpoint,
    lambda: stack.lambdaEndpoint,
    ...(images ? { images: images.dir, imported: images.report.images.length, skipped: images.report.skipped } : {}),
    try: urls.map((u) => u.url),
  },
  'marquee is up',
);
seed?.complete.then(
  () => seed.ready < seed.titles && log.info({ titles: seed.titles }, 'sample artwork complete: every title renders'),
  () => undefined,
);

const watch =
  images &&
  watchFolder(
    images.dir,
    async () => {
      const skippedBefore = JSON.stringify(images.report.skipped);
      const report = await images.reimport();
      // Said only when something changed: what is served, or what is refused (a bad file added or fixed).
      if (!report.written && report.changed.length === 0 && JSON.stringify(report.skipped) === skippedBefore) return;
      const changed = new Set(report.changed.map((image) => image.key));
      const current = importedUrls(base, stack.app.rulesPoller.current().rules, report, sourcesBucket);
      log.info(
        {
          images: report.images.length,
          changed: current.filter((u) => u.key !== undefined && changed.has(u.key)).map((u) => u.url),
          skipped: report.skipped,
          ms: report.ms,
        },
        `images re-imported: ${report.changed.length} new or changed, ${report.skipped.length} skipped`,
      );
      // The same, for a person: the skipped files and the warnings as the banner shows them.
      const notes = fileNotes(report);
      if (notes.length > 0) process.stdout.write(`${notes.join('\n')}\n\n`);
    },
    { onError: (err) => log.warn({ err }, 'images folder: re-import failed; the last import still serves') },
  );

// One drain for every way out: SIGINT/SIGTERM, and an uncaught error (logged, then drained).
closeWithGrace({ delay: DRAIN_MS, logger: log }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'uncaught error: stopping');
  else log.info({ signal }, 'stopping: draining requests, ending Generator environments');
  watch?.close();
  await stack.close();
});
