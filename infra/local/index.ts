/** The embedded single-machine stack's building blocks: local Lambda endpoint, local S3, sample seed, CDN (Varnish). */
export * from './lambda/index.js';
export {
  startLocalS3,
  localS3Client,
  LOCAL_S3_CREDENTIALS,
  LOCAL_S3_REGION,
  type LocalS3,
  type LocalS3Options,
} from './s3/index.js';
export * from './seed/index.js';
export { startStack, defaultGeneratorModule, RULES_KEY, type Stack, type StackOptions } from './stack/stack.js';
export {
  startVarnish,
  counters as varnishCounters,
  DEFAULT_CDN_PORT,
  VarnishStartError,
  type LocalVarnish,
  type VarnishOptions,
} from './cdn/varnish.js';
