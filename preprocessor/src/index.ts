export { buildApp, s3ClientFor, type AppDeps } from './app.js';
export { loadConfig, ConfigError, type PreprocessorConfig, type ConfigOverrides } from './config.js';
