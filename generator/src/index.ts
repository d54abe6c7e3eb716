export { generate, type Generated } from './generate.js';
export { createDeps, type Deps, type DepsOverrides } from './deps.js';
export {
  loadConfig,
  type ConfigOptions,
  type GeneratorConfig,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_SOURCE_BYTES,
  DEFAULT_MAX_INPUT_PIXELS,
} from './config.js';
export { createLogger, type Logger } from './log.js';
export { publicAddressesOnly, type AddressPolicy } from './source/guard.js';
export { MAX_REDIRECTS } from './source/http.js';
export { sniffFormat, INPUT_FORMATS, type InputFormat } from './steps/detect.js';
export { DERIVATIVE_CACHE_CONTROL } from './output.js';
