import type { S3Client } from '@aws-sdk/client-s3';
import type { Dispatcher } from 'undici';
import type { GeneratorConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { publicAddressesOnly, type AddressPolicy } from './source/guard.js';
import { lazyHttpAgent } from './source/http.js';
import { lazyS3Client, loadS3Module, sdkGetObject, type S3GetObject } from './source/s3.js';
import { leanS3GetObject } from './source/s3-lean.js';
import { SourceCache } from './source/cache.js';
import { awsSdkEnv } from '@marquee/shared';

/** What `generate` needs from the outside world; created once per environment. */
export interface Deps {
  config: GeneratorConfig;
  logger: Logger;
  /** The S3 client, created on first use (the SDK is loaded then too). */
  s3Client: () => Promise<S3Client>;
  /**
   * GetObject for sources. By default a lean SigV4 GET (no SDK load) when Lambda's env
   * credentials are there, else through `s3Client`; an injected `s3Client` is used as given.
   */
  s3GetObject: () => Promise<S3GetObject>;
  /** The HTTP agent that connects only to addresses `addressPolicy` allows. */
  httpAgent: () => Promise<Dispatcher>;
  /** Which IP addresses HTTP sources may reach; tests inject a looser one for 127.0.0.x. */
  addressPolicy: AddressPolicy;
  /** S3 source bytes of this environment, revalidated by ETag; undefined when turned off. */
  sourceCache: SourceCache | undefined;
}

export type DepsOverrides = Partial<Omit<Deps, 'config'>>;

export function createDeps(config: GeneratorConfig, overrides: DepsOverrides = {}): Deps {
  const addressPolicy = overrides.addressPolicy ?? publicAddressesOnly;
  const s3Client = overrides.s3Client ?? lazyS3Client(config);
  // The first request's GET must not wait for the SDK to load (cold start): see s3-lean.ts.
  const lean = overrides.s3Client === undefined ? leanS3GetObject(config, awsSdkEnv()) : undefined;
  const viaSdk = async () => {
    const [client, module] = await Promise.all([s3Client(), loadS3Module()]);
    return sdkGetObject(client, module);
  };
  return {
    config,
    logger: overrides.logger ?? createLogger(config.logLevel),
    s3Client,
    s3GetObject: overrides.s3GetObject ?? (lean === undefined ? viaSdk : () => Promise.resolve(lean)),
    httpAgent: overrides.httpAgent ?? lazyHttpAgent(addressPolicy, config.fetchTimeoutMs),
    addressPolicy,
    sourceCache:
      overrides.sourceCache ?? (config.sourceCacheBytes > 0 ? new SourceCache(config.sourceCacheBytes) : undefined),
  };
}
