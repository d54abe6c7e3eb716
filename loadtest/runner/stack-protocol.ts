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

export interface EmbeddedStack {
  url: string;
  s3Endpoint: string;
  lambdaEndpoint: string;
  lambda: { stats(): LambdaStats };
  close(): Promise<void>;
}

export interface PreprocessorOverrides {
  cache?: { maxBytes?: number; maxEntryBytes?: number };
  generator?: { maxInFlight?: number; timeoutMs?: number };
  maxEventLoopDelayMs?: number;
}

export interface StackModule {
  startStack(options: {
    dataDir: string;
    port?: number;
    logger?: false | { level: string };
    lambdaConcurrency?: number;
    preprocessor?: PreprocessorOverrides;
  }): Promise<EmbeddedStack>;
}

export interface StackChildOptions {
  dataDir?: string;
  lambdaConcurrency?: number;
  preprocessor?: PreprocessorOverrides;
}

export type ParentMessage = { type: 'stats'; id: number } | { type: 'close' };

export type ChildMessage =
  | { type: 'ready'; url: string; s3Endpoint: string; lambdaEndpoint: string; dataDir: string }
  | { type: 'stats'; id: number; lambda: LambdaStats }
  /** `problems`: the lines of a ConfigError (a bad variable), rethrown as one by the parent. */
  | { type: 'error'; message: string; problems?: string[] };
