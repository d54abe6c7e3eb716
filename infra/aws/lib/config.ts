import { PriceClass } from 'aws-cdk-lib/aws-cloudfront';
import { GENERATOR_MEMORY_MIB } from '@marquee/shared';

/** CPU architecture of the Preprocessor's Fargate tasks. */
export type TaskArch = 'arm64' | 'x86_64';

/**
 * Everything an operator may tune, with the defaults filled in.
 * Build it with {@link resolveSettings} (from props) or {@link settingsFromContext} (from `cdk -c`).
 */
export interface MarqueeSettings {
  /** Absolute path of the Generator bundle (`npm run package -w generator`). */
  readonly generatorZip: string;
  /** Optional fixed names; CloudFormation generates unique ones when absent. */
  readonly sourcesBucketName: string | undefined;
  readonly derivativesBucketName: string | undefined;
  readonly generatorFunctionName: string | undefined;
  /** Derivatives are re-creatable from sources, so they expire. */
  readonly derivativesExpiryDays: number;
  readonly generatorMemoryMiB: number;
  readonly generatorTimeoutSeconds: number;
  readonly generatorReservedConcurrency: number | undefined;
  readonly maxSourceBytes: number;
  readonly maxInputPixels: number;
  readonly fetchTimeoutMs: number;
  /** Share of `live` traffic sent to the version built from `generatorZip` while `stableVersion` keeps the rest. */
  readonly canaryWeight: number;
  /** Published version number that `live` keeps as its primary during a canary; absent = no canary. */
  readonly stableVersion: string | undefined;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
  readonly taskArch: TaskArch;
  readonly cpuTargetPercent: number;
  readonly requestsPerTarget: number;
  readonly natGateways: number;
  readonly priceClass: PriceClass;
  /** Region of the CloudFront origin shield; `undefined` = the stack's region, `false` = no shield. */
  readonly originShieldRegion: string | false | undefined;
  /** Rules: a path inside the Preprocessor image, or `s3://bucket/key`. */
  readonly rules: string;
  /** Key of the catalog object in the sources bucket. */
  readonly catalogKey: string;
  /** Key prefix of published artwork sources in the sources bucket: an object created under it is prewarmed. */
  readonly artworkPrefix: string;
  /** Share of the Generator's reserved concurrency prewarming may hold; live misses keep the rest. */
  readonly prewarmShare: number;
  /** Most Generator invocations prewarming has in flight; the whole budget when no concurrency is reserved. */
  readonly prewarmMaxConcurrency: number;
  /** The prewarm consumer's Lambda timeout; the queue's visibility timeout is six times it. */
  readonly prewarmTimeoutSeconds: number;
  /** The prewarm consumer's memory: it holds the parsed catalog. */
  readonly prewarmMemoryMiB: number;
  readonly logLevel: string;
  readonly alarmEmail: string | undefined;
}

/** What a caller may pass: only the bundle path is required. */
export type MarqueeSettingsInput = Partial<MarqueeSettings> & { readonly generatorZip: string };

// Why these defaults: sharp gets ~2 vCPUs' worth of Lambda CPU at 2048 MB, and a render that is not
// done in 30 s is stuck (the Preprocessor times out first); 15 minutes would only burn money.
const DEFAULTS: Omit<MarqueeSettings, 'generatorZip'> = {
  sourcesBucketName: undefined,
  derivativesBucketName: undefined,
  generatorFunctionName: undefined,
  derivativesExpiryDays: 30,
  // The figure the cost estimates use (shared/src/pricing.ts), so a rules diff's costUsd prices this function.
  generatorMemoryMiB: GENERATOR_MEMORY_MIB,
  generatorTimeoutSeconds: 30,
  generatorReservedConcurrency: undefined,
  // 50 MiB and 100 MP: above any real artwork master, below what blows a 2 GB Lambda's memory.
  maxSourceBytes: 50 * 1024 * 1024,
  maxInputPixels: 100_000_000,
  fetchTimeoutMs: 10_000,
  canaryWeight: 0,
  stableVersion: undefined,
  // Two tasks so that one AZ or one deployment never takes the origin down.
  minTasks: 2,
  maxTasks: 10,
  taskCpu: 1024,
  taskMemoryMiB: 2048,
  taskArch: 'arm64',
  cpuTargetPercent: 60,
  requestsPerTarget: 1000,
  natGateways: 1,
  priceClass: PriceClass.PRICE_CLASS_100,
  originShieldRegion: undefined,
  rules: '/app/preprocessor/config/rules.yaml',
  catalogKey: 'catalog.json',
  // Where the catalog export puts sources (`titles/<id>/<type>/<locale>.<ext>`, as the local seed does).
  artworkPrefix: 'titles/',
  // A fifth of the reserved Generator concurrency: a publish drains in minutes, a spike keeps 80 %.
  prewarmShare: 0.2,
  prewarmMaxConcurrency: 10,
  // Long enough for a batch of records, each a few renders deep; far below the 15-minute cap.
  prewarmTimeoutSeconds: 300,
  // The consumer parses the whole catalog export (up to 64 MiB of JSON) on every cold start.
  prewarmMemoryMiB: 1024,
  logLevel: 'info',
  alarmEmail: undefined,
};

// Lambda's own bounds; Fargate's valid cpu/memory pairs are checked by CDK itself.
const LAMBDA_MEMORY_MIB = { min: 128, max: 10_240 } as const;
const LAMBDA_TIMEOUT_S = { min: 1, max: 900 } as const;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A setting that does not fit; the message names the setting, what was expected and what came. */
export class SettingsError extends Error {
  constructor(
    readonly setting: string,
    expected: string,
    got: unknown,
  ) {
    super(`marquee: setting "${setting}" must be ${expected}, got ${JSON.stringify(got)}`);
    this.name = 'SettingsError';
  }
}

/** Fills defaults and checks every value and the cross-field rules (canary, task bounds). */
export function resolveSettings(input: MarqueeSettingsInput): MarqueeSettings {
  const s: MarqueeSettings = { ...DEFAULTS, ...withoutUndefined(input), generatorZip: input.generatorZip };
  intIn('generatorMemoryMiB', s.generatorMemoryMiB, LAMBDA_MEMORY_MIB.min, LAMBDA_MEMORY_MIB.max);
  intIn('generatorTimeoutSeconds', s.generatorTimeoutSeconds, LAMBDA_TIMEOUT_S.min, LAMBDA_TIMEOUT_S.max);
  if (s.generatorReservedConcurrency !== undefined) {
    intIn('generatorReservedConcurrency', s.generatorReservedConcurrency, 1, 100_000);
  }
  intIn('derivativesExpiryDays', s.derivativesExpiryDays, 1, 3650);
  intIn('maxSourceBytes', s.maxSourceBytes, 1, Number.MAX_SAFE_INTEGER);
  intIn('maxInputPixels', s.maxInputPixels, 1, Number.MAX_SAFE_INTEGER);
  intIn('fetchTimeoutMs', s.fetchTimeoutMs, 1, s.generatorTimeoutSeconds * 1000);
  // Lambda accepts weights in [0, 1); a weight of 1 is a promotion: drop stableVersion instead.
  if (!(typeof s.canaryWeight === 'number' && s.canaryWeight >= 0 && s.canaryWeight < 1)) {
    throw new SettingsError('canaryWeight', 'a number in [0, 1)', s.canaryWeight);
  }
  if (s.stableVersion !== undefined && !/^[1-9]\d*$/.test(s.stableVersion)) {
    throw new SettingsError('stableVersion', 'a published version number such as "7"', s.stableVersion);
  }
  if (s.canaryWeight > 0 && s.stableVersion === undefined) {
    throw new SettingsError('stableVersion', 'set when canaryWeight > 0 (the version that keeps the rest)', undefined);
  }
  intIn('minTasks', s.minTasks, 1, 1000);
  intIn('maxTasks', s.maxTasks, s.minTasks, 1000);
  intIn('taskCpu', s.taskCpu, 256, 16_384);
  intIn('taskMemoryMiB', s.taskMemoryMiB, 512, 122_880);
  oneOf('taskArch', s.taskArch, ['arm64', 'x86_64']);
  intIn('cpuTargetPercent', s.cpuTargetPercent, 10, 95);
  intIn('requestsPerTarget', s.requestsPerTarget, 1, 1_000_000);
  // Private subnets reach ECR, Lambda and Secrets Manager through NAT: at least one.
  intIn('natGateways', s.natGateways, 1, 3);
  oneOf('priceClass', s.priceClass, Object.values(PriceClass));
  if (s.originShieldRegion !== undefined && s.originShieldRegion !== false) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(s.originShieldRegion)) {
      throw new SettingsError(
        'originShieldRegion',
        'an AWS region such as "us-east-1", or "off"',
        s.originShieldRegion,
      );
    }
  }
  if (!(s.rules.startsWith('/') || parseS3Url(s.rules) !== undefined)) {
    throw new SettingsError('rules', 'an absolute path in the image or s3://bucket/key', s.rules);
  }
  if (!/^[^/].*[^/]$/.test(s.catalogKey)) {
    throw new SettingsError('catalogKey', 'an object key without leading or trailing "/"', s.catalogKey);
  }
  if (!/^[^/].*\/$/.test(s.artworkPrefix)) {
    throw new SettingsError('artworkPrefix', 'a key prefix ending in "/", without a leading "/"', s.artworkPrefix);
  }
  notificationFilters(s);
  if (!(typeof s.prewarmShare === 'number' && s.prewarmShare > 0 && s.prewarmShare <= MAX_PREWARM_SHARE)) {
    throw new SettingsError('prewarmShare', `a number in (0, ${MAX_PREWARM_SHARE}]`, s.prewarmShare);
  }
  intIn('prewarmMaxConcurrency', s.prewarmMaxConcurrency, MIN_CONSUMERS, 10_000);
  // A consumer must outlive the render it waits for, or every slow render is retried from SQS.
  intIn('prewarmTimeoutSeconds', s.prewarmTimeoutSeconds, s.generatorTimeoutSeconds + 1, LAMBDA_TIMEOUT_S.max);
  intIn('prewarmMemoryMiB', s.prewarmMemoryMiB, LAMBDA_MEMORY_MIB.min, LAMBDA_MEMORY_MIB.max);
  prewarmBudget(s);
  oneOf('logLevel', s.logLevel, LOG_LEVELS);
  return s;
}

/** Past half, prewarming could starve the live misses it exists to spare. */
const MAX_PREWARM_SHARE = 0.5;
/** Lambda's floor for an SQS event source mapping's `MaximumConcurrency`. */
const MIN_CONSUMERS = 2;
/** Renders one consumer keeps in flight at most: enough to hide invoke latency, few enough to spread a burst. */
const MAX_PER_CONSUMER = 8;
/** Lambda's ceiling for `MaximumConcurrency`. */
const MAX_CONSUMERS = 1000;

/**
 * How much of the Generator prewarming may hold, and how it is split. The event source mapping runs
 * at most `consumers` consumer invocations at once and each keeps at most `perConsumer` Generator
 * invocations in flight, so prewarming never holds more than `consumers × perConsumer ≤
 * generatorConcurrency` of the Generator. With reserved concurrency R that ceiling is
 * `min(floor(R × prewarmShare), prewarmMaxConcurrency)` and live misses keep at least R minus it;
 * without a reservation the Generator shares the account's pool and the ceiling is
 * `prewarmMaxConcurrency` alone.
 */
export interface PrewarmBudget {
  readonly generatorConcurrency: number;
  readonly consumers: number;
  readonly perConsumer: number;
}

/** The budget for these settings; throws when the share leaves prewarming fewer than two invocations. */
export function prewarmBudget(s: MarqueeSettings): PrewarmBudget {
  const reserved = s.generatorReservedConcurrency;
  const ceiling =
    reserved === undefined
      ? s.prewarmMaxConcurrency
      : Math.min(Math.floor(reserved * s.prewarmShare), s.prewarmMaxConcurrency);
  if (ceiling < MIN_CONSUMERS) {
    throw new SettingsError(
      'prewarmShare',
      `large enough that generatorReservedConcurrency (${reserved}) × prewarmShare ≥ ${MIN_CONSUMERS}`,
      s.prewarmShare,
    );
  }
  const consumers = Math.min(MAX_CONSUMERS, Math.max(MIN_CONSUMERS, Math.floor(ceiling / MAX_PER_CONSUMER)));
  const perConsumer = Math.floor(ceiling / consumers);
  return { generatorConcurrency: consumers * perConsumer, consumers, perConsumer };
}

/** What in the sources bucket notifies the prewarm queue: S3 refuses two filters of one event that overlap. */
export interface NotificationFilters {
  /** Published artwork: every object created under it. */
  readonly artworkPrefix: string;
  /** The catalog and, when it lives in the sources bucket, the rules: exact keys. */
  readonly keys: readonly string[];
}

/** The filters, checked: no prefix or key may start another (S3 would refuse the configuration at deploy). */
export function notificationFilters(s: MarqueeSettings): NotificationFilters {
  const keys = [s.catalogKey];
  const rules = rulesKeyInSources(s);
  if (rules !== undefined) keys.push(rules);
  const all: [string, string][] = [
    ['artworkPrefix', s.artworkPrefix],
    ['catalogKey', s.catalogKey],
    ...(rules === undefined ? [] : [['rules', rules] as [string, string]]),
  ];
  for (const [setting, value] of all) {
    for (const [other, otherValue] of all) {
      if (setting !== other && value.startsWith(otherValue)) {
        throw new SettingsError(setting, `a key that does not start with ${other} ("${otherValue}")`, value);
      }
    }
  }
  return { artworkPrefix: s.artworkPrefix, keys };
}

/**
 * The rules object's key when it is in the sources bucket (`rules` names `sourcesBucketName`), else
 * undefined: only then can the stack have S3 notify the prewarm queue of a rules change.
 */
export function rulesKeyInSources(s: MarqueeSettings): string | undefined {
  const at = parseS3Url(s.rules);
  return at !== undefined && s.sourcesBucketName !== undefined && at.bucket === s.sourcesBucketName
    ? at.key
    : undefined;
}

/** Reads the settings from CDK context (`cdk synth -c canaryWeight=0.1`); values arrive as strings or JSON. */
export function settingsFromContext(get: (key: string) => unknown, generatorZip: string): MarqueeSettings {
  const str = (key: string): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null || v === '') return undefined;
    // Context from the command line is text; from cdk.json it may be a JSON number or boolean.
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  const num = (key: string): number | undefined => {
    const v = str(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new SettingsError(key, 'a number', v);
    return n;
  };
  const shield = str('originShieldRegion');
  return resolveSettings({
    generatorZip,
    sourcesBucketName: str('sourcesBucketName'),
    derivativesBucketName: str('derivativesBucketName'),
    generatorFunctionName: str('generatorFunctionName'),
    derivativesExpiryDays: num('derivativesExpiryDays'),
    generatorMemoryMiB: num('generatorMemoryMiB'),
    generatorTimeoutSeconds: num('generatorTimeoutSeconds'),
    generatorReservedConcurrency: num('generatorReservedConcurrency'),
    maxSourceBytes: num('maxSourceBytes'),
    maxInputPixels: num('maxInputPixels'),
    fetchTimeoutMs: num('fetchTimeoutMs'),
    canaryWeight: num('canaryWeight'),
    stableVersion: str('stableVersion'),
    minTasks: num('minTasks'),
    maxTasks: num('maxTasks'),
    taskCpu: num('taskCpu'),
    taskMemoryMiB: num('taskMemoryMiB'),
    taskArch: str('taskArch') as TaskArch | undefined,
    cpuTargetPercent: num('cpuTargetPercent'),
    requestsPerTarget: num('requestsPerTarget'),
    natGateways: num('natGateways'),
    priceClass: str('priceClass') as PriceClass | undefined,
    originShieldRegion: shield === 'off' ? false : shield,
    rules: str('rules'),
    catalogKey: str('catalogKey'),
    artworkPrefix: str('artworkPrefix'),
    prewarmShare: num('prewarmShare'),
    prewarmMaxConcurrency: num('prewarmMaxConcurrency'),
    prewarmTimeoutSeconds: num('prewarmTimeoutSeconds'),
    prewarmMemoryMiB: num('prewarmMemoryMiB'),
    logLevel: str('logLevel'),
    alarmEmail: str('alarmEmail'),
  });
}

/** `s3://bucket/key` → its parts; anything else → undefined. */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(url);
  return m?.[1] !== undefined && m[2] !== undefined ? { bucket: m[1], key: m[2] } : undefined;
}

function intIn(setting: string, value: unknown, min: number, max: number): void {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) {
    throw new SettingsError(setting, `an integer in [${min}, ${max}]`, value);
  }
}

function oneOf(setting: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new SettingsError(setting, `one of ${allowed.join(', ')}`, value);
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
