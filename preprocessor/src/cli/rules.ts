#!/usr/bin/env node
/**
 * `npm run rules -- <command>`: check, diff, publish and roll back artwork rules.
 *
 *   rules check FILE
 *   rules diff OLD NEW [--catalog FILE|s3://bucket/key] [--json] [--ms-per-image N]
 *   rules publish DRAFT [--to FILE|s3://bucket/key] [--author NAME] [--catalog …] [--varnish URL]
 *                       [--cloudfront-distribution ID] [--preprocessor URL]… [--ms-per-image N]
 *   rules history [--to …] [--json]
 *   rules rollback ID [--to …] [--author NAME] [the invalidation options of publish]
 *   rules show [--to …]
 *
 * `--local` (any command) points every location at the embedded stack (`npm start [-- --cdn]`):
 * its S3, Lambda endpoint, derivatives bucket, rules, Preprocessor and, when it answers, Varnish.
 *
 * Locations are file paths or `s3://bucket/key`, read with the Preprocessor's own variables
 * (MARQUEE_RULES and MARQUEE_CATALOG are the defaults; MARQUEE_S3_ENDPOINT, AWS_REGION and the
 * SDK's credentials reach S3).
 */
import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CLOUDFRONT_FREE_INVALIDATION_PATHS_PER_MONTH,
  ConfigError,
  DEFAULT_MS_PER_IMAGE,
  Type,
  configProblem,
  exitOnConfigError,
  plural,
  quietSdkNodeNotice,
  readEnv,
  readInteger,
  type RulesProblem,
  type Static,
} from '@marquee/shared';
import { PreprocessorEnv, loadConfig } from '../config.js';
import { invalidatorFor } from '../invalidation/backends.js';
import type { Invalidator } from '../invalidation/invalidator.js';
import { parseInvalidationTarget, type InvalidationTarget } from '../invalidation/target.js';
import { resumeWaves, waveLine, type WavePacing } from '../invalidation/waves.js';
import { prewarmBeforeFlip, timeLeft, type BeforeFlipOutcome } from '../prewarm/before-flip.js';
import { progressBar } from '../prewarm/cli-args.js';
import {
  cliClients,
  findVarnish,
  localPrewarmConcurrency,
  localStack,
  withLocalStack,
  type LocalStack,
} from '../prewarm/local-stack.js';
import { PUBLISH_WARM_SETS, type PublishWarmSet } from '../prewarm/rules-change.js';
import { standalonePrewarmer } from '../prewarm/standalone.js';
import {
  listHistory,
  openTarget,
  publishRules,
  rollbackRules,
  type PrewarmRequest,
  type PublishOptions,
  type PublishResult,
} from '../publish/index.js';
import type { HistoryEntry } from '../publish/history.js';
import { diffRules, type DiffCounts, type RulesDiff } from '../rules/diff.js';
import { parseCatalog } from '../rules/load.js';
import type { Catalog, Rules } from '../rules/schema.js';
import { isS3Location, openDocument } from '../rules/source.js';
import { checkRulesText } from '../studio/rules-text.js';

/** The Preprocessor's variables this tool reads: where the rules and catalog are, and how to reach S3. */
const RulesCliEnv = Type.Pick(PreprocessorEnv, [
  'MARQUEE_RULES',
  'MARQUEE_CATALOG',
  'MARQUEE_SOURCES_BUCKET',
  'AWS_REGION',
  'MARQUEE_S3_ENDPOINT',
  'MARQUEE_RELOAD_MS',
  'MARQUEE_INVALIDATION',
  'MARQUEE_MAX_INFLIGHT',
]);

const USAGE = `usage: rules <command>
  check FILE                       validate a rules file (the Preprocessor's own messages)
  diff OLD NEW [--catalog LOC] [--json] [--ms-per-image N] [--exact]
                                   what NEW changes against OLD over the catalog
  publish DRAFT [--to LOC] [--author NAME] [--catalog LOC] [--varnish URL]
                [--cloudfront-distribution ID] [--preprocessor URL]... [--ms-per-image N] [--prewarm] [--exact]
                                   write DRAFT where the Preprocessors read rules, keep history, invalidate
                                   (default: MARQUEE_INVALIDATION), prewarm the new looks (--prewarm)
                [--warm-set changed|prewarm-set] [--local]
                                   with --prewarm, the new looks are rendered into the store BEFORE the
                                   rules are written, then the Preprocessors reload, then the CDN is
                                   invalidated; --warm-set: every changed URL (default) or the rules'
                                   prewarm set (the rest renders live on first request)
  history [--to LOC] [--json]      the publishes at LOC, newest first
  rollback ID [publish options]    publish again the rules that publish ID replaced
  show [--to LOC]                  print the rules in force
  publish|rollback … --max-render-share S [--hit-rate H] [--wave-seconds N] [--max-in-flight N]
                                   invalidate in waves whose live renders stay within S of the
                                   Generator's capacity (N slots × 1000 / --ms-per-image renders/s;
                                   H of the invalidated URLs asked again, default 1); Ctrl-C stops
                                   between waves
  resume ID [--to LOC] [CDN options] [--local]
                                   send the waves a paced publish left unsent
--local: the embedded stack (npm start [-- --cdn]): its S3, Lambda, derivatives bucket, rules,
  Preprocessor (MARQUEE_LOCAL_*_PORT, PORT) and Varnish when it answers; nothing to set by hand.
LOC is a file path or s3://bucket/key; defaults: MARQUEE_RULES, MARQUEE_CATALOG.`;

/** A render cannot take longer than a Lambda may run (15 minutes). */
const MAX_MS_PER_IMAGE = 900_000;
/** How long a publish waits for the Preprocessors named by --preprocessor to serve the new rules. */
const ROLLOUT_TIMEOUT_MS = 60_000;
/** How often a prewarm off a terminal prints its progress line. */
const PROGRESS_EVERY_MS = 5000;
/** Lines of invalidation paths printed before "and N more". */
const SHOWN_PATHS = 12;

class UsageError extends Error {}

const out = (text: string) => process.stdout.write(`${text}\n`);
const fmt = (n: number) => n.toLocaleString('en-US');
/** `1 path`, `1,024 paths`: a count and its noun. */
const count = (n: number, one: string, many?: string) => `${fmt(n)} ${plural(n, one, many)}`;

/** `--local`: the stack's locations, and its Varnish when it runs (`npm start -- --cdn`). */
interface LocalTarget {
  stack: LocalStack;
  varnish: string | undefined;
}

/** The variables in force, with `--local` filling in the stack's where the operator set none. */
function localEnv(env: Env, local: LocalStack | undefined): Env {
  if (!local) return env;
  const defaultRules = env.MARQUEE_RULES === PreprocessorEnv.properties.MARQUEE_RULES.default;
  return {
    ...env,
    MARQUEE_RULES: defaultRules ? local.rules : env.MARQUEE_RULES,
    MARQUEE_S3_ENDPOINT: env.MARQUEE_S3_ENDPOINT ?? local.s3Endpoint,
  };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(USAGE);
    return 0;
  }
  // The SDK's notice about the Node release: the stack gives it at `npm start`, not each CLI call.
  quietSdkNodeNotice();
  const stack = argv.includes('--local') ? localStack() : undefined;
  const [command, ...rest] = argv.filter((a) => a !== '--local');
  const env = localEnv(readEnv(RulesCliEnv), stack);
  let client: S3Client | undefined;
  // One S3 client, made only when a location is on S3, as the Preprocessor makes its own.
  const s3 = (location: string) => {
    if (!isS3Location(location)) return undefined;
    client ??= new S3Client({
      region: env.AWS_REGION,
      ...(env.MARQUEE_S3_ENDPOINT ? { endpoint: env.MARQUEE_S3_ENDPOINT, forcePathStyle: true } : {}),
      ...(stack ? { credentials: stack.credentials } : {}),
    });
    return client;
  };
  const local =
    stack && (command === 'publish' || command === 'rollback' || command === 'resume')
      ? { stack, varnish: await findVarnish(stack) }
      : undefined;
  try {
    switch (command) {
      case 'check':
        return await check(rest, s3);
      case 'diff':
        return await diff(rest, env, s3);
      case 'publish':
      case 'rollback':
        return await publish(command, rest, env, s3, local);
      case 'show':
        return await show(rest, env, s3);
      case 'resume':
        return await resume(rest, env, s3, local);
      case 'history':
        return await history(rest, env, s3);
      default:
        throw new UsageError(command === undefined ? 'a command is required' : `unknown command ${command}`);
    }
  } finally {
    client?.destroy();
  }
}

type S3For = (location: string) => S3Client | undefined;
type Env = Static<typeof RulesCliEnv>;

async function readText(location: string, s3: S3For): Promise<string> {
  const snapshot = await openDocument(location, s3(location)).fetch();
  if (snapshot === 'unchanged') throw new Error(`${location}: no document`);
  return snapshot.text;
}

/** `FILE:LINE:COLUMN: /field: message`, as compilers print it (no line for a document-level problem). */
function describeProblem(origin: string, problem: RulesProblem): string {
  const detail = problem.message.startsWith(`${origin}: `) ? problem.message.slice(origin.length + 2) : problem.message;
  const at = problem.line === undefined ? '' : `:${problem.line}:${problem.column ?? 1}`;
  return `${origin}${at}: ${detail}`;
}

/** The rules at `location`, or undefined after printing why they are refused. */
async function loadRules(location: string, s3: S3For): Promise<Rules | undefined> {
  const checked = checkRulesText(await readText(location, s3), location);
  if (checked.ok) return checked.rules;
  process.stderr.write(`${describeProblem(location, checked.problem)}\n`);
  return undefined;
}

async function loadCatalog(location: string, s3: S3For): Promise<Catalog> {
  return parseCatalog(await readText(location, s3), location);
}

function msPerImage(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = readInteger(text, 1, MAX_MS_PER_IMAGE);
  if (value === undefined)
    throw new ConfigError(configProblem('--ms-per-image', `an integer from 1 to ${MAX_MS_PER_IMAGE}`, text));
  return value;
}

async function check(args: string[], s3: S3For): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('check takes one FILE');
  const location = positionals[0] as string;
  const rules = await loadRules(location, s3);
  if (!rules) return 1;
  out(`${location}: ok (${count(Object.keys(rules.types).length, 'type')}: ${Object.keys(rules.types).join(', ')})`);
  return 0;
}

async function diff(args: string[], env: Env, s3: S3For): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      catalog: { type: 'string' },
      json: { type: 'boolean', default: false },
      'ms-per-image': { type: 'string' },
      exact: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 2) throw new UsageError('diff takes OLD and NEW');
  const [oldLocation, newLocation] = positionals as [string, string];
  const ms = msPerImage(values['ms-per-image']);
  const [current, next] = [await loadRules(oldLocation, s3), await loadRules(newLocation, s3)];
  if (!current || !next) return 1;
  const catalogLocation = values.catalog ?? env.MARQUEE_CATALOG;
  const catalog = await loadCatalog(catalogLocation, s3);
  const result = diffRules({
    current,
    next,
    catalog,
    sourcesBucket: env.MARQUEE_SOURCES_BUCKET,
    ...(ms !== undefined ? { costs: { msPerImage: ms } } : {}),
    ...(values.exact ? { maxExactPathsPerTitle: Infinity } : {}),
  });
  if (values.json) {
    out(JSON.stringify({ old: oldLocation, new: newLocation, catalog: catalogLocation, ...result }, null, 2));
  } else {
    out(`rules diff ${oldLocation} → ${newLocation}`);
    out(`catalog ${catalogLocation}: ${count(result.titles, 'title')}`);
    out('');
    for (const line of impactLines(result)) out(line);
  }
  return 0;
}

/** The diff as a person reads it: counts per type, what re-rendering costs, what to invalidate. */
function impactLines(d: RulesDiff): string[] {
  const rows: Array<[string, DiffCounts]> = [...Object.entries(d.byType), ['total', d]];
  const cells = (name: string, c: DiffCounts) => [name, fmt(c.changed), fmt(c.added), fmt(c.removed), fmt(c.unchanged)];
  const table = [['type', 'changed', 'added', 'removed', 'unchanged'], ...rows.map(([n, c]) => cells(n, c))];
  const widths = (table[0] as string[]).map((_, i) => Math.max(...table.map((r) => (r[i] as string).length)));
  const lines = table.map((r) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  '),
  );
  lines.push('');
  lines.push(
    `re-render: ${count(d.renders, 'image')} ≈ ${d.renderSeconds.toFixed(1)} s of Generator time ≈ $${d.costUsd.toFixed(4)}`,
  );
  for (const line of wrap(d.costBasis, 100)) lines.push(`  ${line}`);
  lines.push('');
  const free = `the first ${fmt(CLOUDFRONT_FREE_INVALIDATION_PATHS_PER_MONTH)} a month are free`;
  lines.push(
    d.invalidations.length === 0
      ? 'invalidate: nothing'
      : `invalidate: ${count(d.invalidations.length, 'path')} (CloudFront: $${d.invalidationCostUsd.toFixed(3)} past ${free})`,
  );
  for (const p of d.invalidations.slice(0, SHOWN_PATHS)) lines.push(`  ${p}`);
  if (d.invalidations.length > SHOWN_PATHS) {
    lines.push(`  … and ${fmt(d.invalidations.length - SHOWN_PATHS)} more (--json lists them all)`);
  }
  return lines;
}

/** `text` in lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const PUBLISH_OPTIONS = {
  to: { type: 'string' },
  author: { type: 'string' },
  catalog: { type: 'string' },
  varnish: { type: 'string' },
  'cloudfront-distribution': { type: 'string' },
  preprocessor: { type: 'string', multiple: true },
  'ms-per-image': { type: 'string' },
  prewarm: { type: 'boolean' },
  'warm-set': { type: 'string' },
  exact: { type: 'boolean' },
  json: { type: 'boolean' },
  'max-render-share': { type: 'string' },
  'hit-rate': { type: 'string' },
  'wave-seconds': { type: 'string' },
  'max-in-flight': { type: 'string' },
} as const;

/** `--max-render-share` and its companions: the invalidation in waves, or undefined (one request). */
function pacingFrom(
  values: { [K in 'max-render-share' | 'hit-rate' | 'wave-seconds' | 'max-in-flight']?: string | undefined },
  ms: number | undefined,
  maxInFlight: number,
): WavePacing | undefined {
  const share = values['max-render-share'];
  if (share === undefined) {
    for (const flag of ['hit-rate', 'wave-seconds', 'max-in-flight'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag} paces waves: it needs --max-render-share`);
    return undefined;
  }
  const fraction = (flag: string, text: string): number => {
    const v = Number(text);
    if (!(v > 0 && v <= 1)) throw new ConfigError(configProblem(flag, 'a number in (0, 1]', text));
    return v;
  };
  const positive = (flag: string, text: string, max: number): number => {
    const v = readInteger(text, 1, max);
    if (v === undefined) throw new ConfigError(configProblem(flag, `an integer from 1 to ${max}`, text));
    return v;
  };
  return {
    maxInFlight: values['max-in-flight'] ? positive('--max-in-flight', values['max-in-flight'], 100_000) : maxInFlight,
    msPerRender: ms ?? DEFAULT_MS_PER_IMAGE,
    maxRenderShare: fraction('--max-render-share', share),
    ...(values['hit-rate'] ? { hitRate: fraction('--hit-rate', values['hit-rate']) } : {}),
    ...(values['wave-seconds'] ? { waveSeconds: positive('--wave-seconds', values['wave-seconds'], 3600) } : {}),
  };
}

/** Ctrl-C stops a paced invalidation between waves (its cursor stays for `rules -- resume`). */
function interruptible(): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const stop = () => {
    process.stderr.write('interrupted: the waves stop here; `npm run rules -- resume ID` sends the rest\n');
    controller.abort();
  };
  process.once('SIGINT', stop);
  return { signal: controller.signal, done: () => process.off('SIGINT', stop) };
}

/** `rules resume ID`: the waves of a paced publish an interruption or a failure left unsent. */
async function resume(args: string[], env: Env, s3: S3For, local: LocalTarget | undefined): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: PUBLISH_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('resume takes one ID');
  const id = positionals[0] as string;
  const target = values.to ?? env.MARQUEE_RULES;
  const cdn = values.varnish ?? local?.varnish;
  const invalidator = invalidatorFrom({ ...values, ...(cdn !== undefined ? { varnish: cdn } : {}) }, env);
  if (!invalidator)
    throw new UsageError('resume needs a CDN: --varnish, --cloudfront-distribution or MARQUEE_INVALIDATION');
  const stop = interruptible();
  try {
    const result = await resumeWaves(id, {
      invalidator,
      store: openTarget(target, s3(target)),
      onProgress: (p) => out(waveLine(p)),
      signal: stop.signal,
    });
    if (values.json === true) out(JSON.stringify(result, null, 2));
    else
      out(
        `invalidation of publish ${id}: ${result.waves.sent} of ${count(result.waves.count, 'wave')} sent, ${count(result.paths, 'path')} in ${count(result.requests, 'request')}`,
      );
    return 0;
  } finally {
    stop.done();
  }
}

async function show(args: string[], env: Env, s3: S3For): Promise<number> {
  const { values } = parseArgs({ args, options: { to: { type: 'string' } }, strict: true });
  const location = values.to ?? env.MARQUEE_RULES;
  process.stderr.write(`# the rules in force at ${location}\n`);
  process.stdout.write(await readText(location, s3));
  return 0;
}

function warmSetOption(text: string | undefined): PublishWarmSet {
  if (text === undefined) return 'changed';
  if (!(PUBLISH_WARM_SETS as readonly string[]).includes(text))
    throw new ConfigError(configProblem('--warm-set', PUBLISH_WARM_SETS.join(' or '), text));
  return text as PublishWarmSet;
}

async function publish(
  command: 'publish' | 'rollback',
  args: string[],
  env: Env,
  s3: S3For,
  local: LocalTarget | undefined,
): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: PUBLISH_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError(`${command} takes one ${command === 'publish' ? 'DRAFT' : 'ID'}`);
  const subject = positionals[0] as string;
  const ms = msPerImage(values['ms-per-image']);
  const target = values.to ?? env.MARQUEE_RULES;
  const catalogLocation = values.catalog ?? env.MARQUEE_CATALOG;
  const set = warmSetOption(values['warm-set']);
  const cdn = values.varnish ?? local?.varnish;
  const invalidator = invalidatorFrom({ ...values, ...(cdn !== undefined ? { varnish: cdn } : {}) }, env);
  const warm = values.prewarm === true ? standaloneWarm(set, local?.stack) : undefined;
  const preprocessors = values.preprocessor ?? (local ? [local.stack.preprocessor] : []);
  // The Generator slots the waves' renders share: the embedded stack's Lambda, else the Preprocessor's setting.
  const pacing = pacingFrom(values, ms, local ? local.stack.lambdaConcurrency : env.MARQUEE_MAX_INFLIGHT);
  const stop = pacing ? interruptible() : undefined;
  const common: Omit<PublishOptions, 'draftText'> = {
    target,
    author: values.author ?? userInfo().username,
    catalog: await loadCatalog(catalogLocation, s3),
    sourcesBucket: env.MARQUEE_SOURCES_BUCKET,
    ...(s3(target) ? { s3Client: s3(target) } : {}),
    ...(ms !== undefined ? { costs: { msPerImage: ms } } : {}),
    ...(values.exact === true ? { exact: true } : {}),
    ...(invalidator ? { invalidator } : {}),
    ...(warm ? { prewarm: warm.prewarm } : {}),
    ...(pacing && stop
      ? {
          invalidationPacing: pacing,
          onInvalidationProgress: (p: Parameters<typeof waveLine>[0]) => out(waveLine(p)),
          invalidationSignal: stop.signal,
        }
      : {}),
    awaitRollout: (etag) => awaitRollout(preprocessors, etag, env.MARQUEE_RELOAD_MS),
  };

  let result: PublishResult;
  try {
    if (command === 'publish') {
      const text = await readText(subject, s3);
      // The loader's refusal placed on a line, before anything is written.
      const checked = checkRulesText(text, subject);
      if (!checked.ok) {
        process.stderr.write(`${describeProblem(subject, checked.problem)}\nnot published\n`);
        return 1;
      }
      result = await publishRules({ ...common, draftText: text, draftOrigin: subject });
    } else {
      result = await rollbackRules({ ...common, id: subject });
    }
  } finally {
    warm?.close();
    stop?.done();
  }
  if (values.json === true) {
    out(JSON.stringify(result, null, 2));
    return exitCode(result);
  }
  return report(result);
}

/** Non-zero when anything the publish asked for failed, even in part. */
function exitCode(r: PublishResult): number {
  if (!r.published) return 0;
  if ('error' in r.invalidation || 'error' in r.prewarm) return 1;
  // An invalidation backend that reports a part it could not send (paced waves may) fails the publish too.
  const inv = r.invalidation as { failed?: unknown };
  if (typeof inv.failed === 'number' && inv.failed > 0) return 1;
  if ('done' in r.prewarm && ((r.prewarm.result as BeforeFlipOutcome | undefined)?.failed ?? 0) > 0) return 1;
  return 0;
}

function report(r: PublishResult): number {
  if (!r.published) {
    out(`${r.target}: already these rules (${r.etag}); nothing published`);
    return 0;
  }
  out(`published ${r.target} (${r.previousEtag ?? 'no rules before'} → ${r.etag})`);
  out(`history: ${r.id}${r.previousEtag ? ` (roll back with: npm run rules -- rollback ${r.id})` : ''}`);
  out('');
  for (const line of impactLines(r.diff)) out(line);
  out('');
  const inv = r.invalidation;
  if ('skipped' in inv) out(`invalidation: skipped (${inv.skipped})`);
  else if ('error' in inv) out(`invalidation: FAILED: ${inv.error}`);
  else
    out(
      `invalidation: ${inv.backend}, ${count(inv.paths, 'path')}${inv.tags ? ` and ${count(inv.tags, 'tag')}` : ''} in ${count(inv.requests, 'request')}${inv.purged !== undefined ? `, ${count(inv.purged, 'object')} purged` : ''} (${inv.ids.slice(0, 3).join(', ')}${inv.ids.length > 3 ? ', …' : ''})`,
    );
  // What the invalidation sent says it over-invalidated (a tag plan: none or few), else the diff's paths.
  const over =
    'overInvalidated' in inv && typeof inv.overInvalidated === 'number' ? inv.overInvalidated : r.diff.overInvalidated;
  if (over > 0 && !('skipped' in inv))
    out(`  over-invalidated: ${count(over, 'unchanged URL')} under the wildcards (--exact lists exact paths instead)`);
  const warm = r.prewarm;
  if ('skipped' in warm) {
    out(`prewarm: not run (${warm.skipped}); --prewarm (or \`npm run prewarm\`) renders the new looks into the store`);
  } else if ('error' in warm) out(`prewarm: FAILED: ${warm.error}`);
  else {
    const w = warm.result as BeforeFlipOutcome | undefined;
    if (w === undefined) out('prewarm: done');
    else {
      out(
        `prewarm (before the rules were written, set: ${w.set}): ${count(w.images, 'image')}: ${fmt(w.rendered)} rendered, ${fmt(w.skipped)} already stored, ${fmt(w.failed)} failed, in ${(w.ms / 1000).toFixed(1)} s`,
      );
      for (const [code, n] of Object.entries(w.failures)) out(`  FAILED ${count(n, 'image')}: ${code}`);
      out(
        w.liveUrls === 0
          ? `live renders: none (every one of the ${count(w.urls, 'changed or added URL')} is in the store)`
          : `live renders: ${fmt(w.liveUrls)} of ${count(w.urls, 'changed or added URL')} will render on their first request`,
      );
    }
  }
  return exitCode(r);
}

type PublishValues = { varnish?: string | undefined; 'cloudfront-distribution'?: string | undefined };

/** The CDNs to invalidate: those the flags name, else the Preprocessor's own (`MARQUEE_INVALIDATION`). */
function invalidatorFrom(values: PublishValues, env: Env): Invalidator | undefined {
  const targets: InvalidationTarget[] = [];
  if (values.varnish !== undefined) targets.push({ backend: 'varnish', url: values.varnish });
  const distributionId = values['cloudfront-distribution'];
  if (distributionId !== undefined) targets.push({ backend: 'cloudfront', distributionId });
  const configured = parseInvalidationTarget(env.MARQUEE_INVALIDATION);
  if (targets.length === 0 && configured !== undefined) targets.push(configured);
  const progress = { info: (obj: object, msg: string) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`) };
  return invalidatorFor(targets, { region: env.AWS_REGION, logger: progress });
}

/**
 * `--prewarm`: the new looks the store lacks, rendered through the Generator as `npm run prewarm`
 * does (the Preprocessor's variables name the function, its endpoint and the derivatives bucket;
 * `--local` the stack's), before the publish writes the rules. Progress and the time left go to
 * stderr: a bar on a terminal, a line every few seconds otherwise.
 */
function standaloneWarm(
  set: PublishWarmSet,
  local: LocalStack | undefined,
): { prewarm: (r: PrewarmRequest) => Promise<BeforeFlipOutcome>; close: () => void } {
  const base = loadConfig();
  const config = local ? withLocalStack(base, local) : base;
  const { s3, lambda } = cliClients(config, local);
  const { prewarmer, close } = standalonePrewarmer(config, {
    s3,
    lambda,
    // Failures are counted by code in the outcome: one line each would be hundreds of lines.
    logger: { info: () => {}, warn: () => {} },
    // The embedded stack's Lambda is shared with its Preprocessor's live misses: the prewarm share of it.
    ...(local ? { concurrency: localPrewarmConcurrency(local, config) } : {}),
  });
  const tty = process.stderr.isTTY;
  return {
    prewarm: async (r) => {
      let lastLine = -Infinity;
      const outcome = await prewarmBeforeFlip(prewarmer, r, {
        set,
        sourcesBucket: config.sourcesBucket,
        onProgress: (p) => {
          const line = `prewarm ${progressBar(p)}  ${timeLeft(p)}`.trimEnd();
          if (tty) process.stderr.write(`\r${line}\x1b[K`);
          else if (p.ms - lastLine >= PROGRESS_EVERY_MS || p.done === p.total) {
            lastLine = p.ms;
            process.stderr.write(`${line}\n`);
          }
        },
      });
      if (tty && outcome.images > 0) process.stderr.write('\n');
      return outcome;
    },
    close: () => {
      close();
      lambda.destroy();
      s3.destroy();
    },
  };
}

/**
 * Waits until the Preprocessors serve `etag` before the CDN is invalidated: each named by
 * --preprocessor until its `/readyz` reports it; else one poll interval of theirs and a second.
 */
async function awaitRollout(preprocessors: readonly string[], etag: string, reloadMs: number): Promise<void> {
  if (preprocessors.length === 0) {
    out(
      `waiting ${((reloadMs + 1000) / 1000).toFixed(0)} s for the Preprocessors to reload (--preprocessor URL waits for one)`,
    );
    await sleep(reloadMs + 1000);
    return;
  }
  const deadline = Date.now() + ROLLOUT_TIMEOUT_MS;
  for (const base of preprocessors) {
    for (;;) {
      const seen = await fetch(new URL('/readyz', base))
        .then(async (res) => ((await res.json()) as { rules?: { rulesEtag?: string } }).rules?.rulesEtag)
        .catch(() => undefined);
      if (seen === etag) break;
      if (Date.now() > deadline)
        throw new Error(
          `${base} did not load the published rules within ${ROLLOUT_TIMEOUT_MS / 1000} s (it reports ${seen ?? 'nothing'})`,
        );
      await sleep(250);
    }
  }
}

async function history(args: string[], env: Env, s3: S3For): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { to: { type: 'string' }, json: { type: 'boolean', default: false } },
    strict: true,
  });
  const target = values.to ?? env.MARQUEE_RULES;
  const client = s3(target);
  const entries = await listHistory({ target, ...(client ? { s3Client: client } : {}) });
  if (values.json) {
    out(JSON.stringify(entries, null, 2));
    return 0;
  }
  if (entries.length === 0) {
    out(`${target}: no publishes recorded`);
    return 0;
  }
  for (const line of historyLines(entries)) out(line);
  return 0;
}

function historyLines(entries: readonly HistoryEntry[]): string[] {
  const rows = entries.map((e) => [
    e.id,
    e.author,
    `${fmt(e.impact.changed)} changed, ${fmt(e.impact.added)} added, ${fmt(e.impact.removed)} removed`,
    `${count(e.impact.invalidations, 'path')}${e.invalidation?.error ? ' (invalidation failed)' : ''}`,
    e.rollbackOf ? `rollback of ${e.rollbackOf}` : '',
  ]);
  const table = [['id (rollback restores the rules before it)', 'author', 'impact', 'invalidated', ''], ...rows];
  const widths = (table[0] as string[]).map((_, i) => Math.max(...table.map((r) => (r[i] as string).length)));
  return table.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** Exits once stdout has taken everything written (a piped `--json` is written asynchronously). */
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  exitOnConfigError(err);
  const code = (err as NodeJS.ErrnoException).code;
  const usage = err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
  process.stderr.write(`rules: ${err instanceof Error ? err.message : String(err)}\n${usage ? `${USAGE}\n` : ''}`);
  exit(1);
});
