/** What the runner needs of `@marquee/local`'s `startStack` (the stack may offer more). */
export interface LambdaStats {
  invocations: number;
  coldStarts?: number;
  throttles?: number;
  timeouts?: number;
  crashes?: number;
  environments?: number;
  busy?: number;
}

/** What the runner reads of the CDN tier's counters. */
export interface CdnStats {
  hits: number;
  misses: number;
  /** Requests passed to the origin uncached (hit-for-pass, pass). */
  passes: number;
  backendRequests: number;
}

/** The derivatives bucket the runner starts the embedded stack with (startStack's default too). */
export const DERIVATIVES_BUCKET = 'marquee-derivatives';

export interface EmbeddedStack {
  url: string;
  /** The CDN tier in front of the Preprocessor (Varnish, infra/local/cdn), when started with `cdn: true`. */
  cdnUrl?: string;
  /** Its counters (`varnishstat -1 -j` by name: `MAIN.cache_hit`, `MAIN.cache_miss`, …). */
  cdn?: { url: string; counters?: () => Promise<Record<string, number>> };
  s3Endpoint: string;
  lambdaEndpoint: string;
  lambda: { stats(): LambdaStats };
  close(): Promise<void>;
}

export interface PreprocessorOverrides {
  cache?: { maxBytes?: number; maxEntryBytes?: number };
  generator?: { maxInFlight?: number; timeoutMs?: number };
  store?: { enabled?: boolean };
  maxEventLoopDelayMs?: number;
}

export interface StackModule {
  startStack(options: {
    dataDir: string;
    port?: number;
    logger?: false | { level: string };
    lambdaConcurrency?: number;
    preprocessor?: PreprocessorOverrides;
    cdn?: boolean;
    /** Named by the runner, so that it knows where to count the objects the Generator writes. */
    derivativesBucket?: string;
  }): Promise<EmbeddedStack>;
}

export interface StackChildOptions {
  dataDir?: string;
  /** Start the stack's CDN tier too, and load through it. */
  cdn?: boolean;
  lambdaConcurrency?: number;
  preprocessor?: PreprocessorOverrides;
}

export type ParentMessage = { type: 'stats'; id: number } | { type: 'close' };

export type ChildMessage =
  | {
      type: 'ready';
      url: string;
      cdnUrl?: string;
      s3Endpoint: string;
      derivativesBucket: string;
      lambdaEndpoint: string;
      dataDir: string;
    }
  | { type: 'stats'; id: number; lambda: LambdaStats; cdn?: CdnStats }
  /** `problems`: the lines of a ConfigError (a bad variable), rethrown as one by the parent. */
  | { type: 'error'; message: string; problems?: string[] };
