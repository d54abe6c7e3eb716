/** The embedded single-machine stack's building blocks: local Lambda endpoint, local S3, sample seed. */
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
export { startStack, defaultGeneratorModule, type Stack, type StackOptions } from './stack/stack.js';
