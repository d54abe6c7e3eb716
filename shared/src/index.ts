export * from './errors.js';
export * from './schema.js';
export * from './spec.js';
export * from './key.js';
export * from './sniff.js';
export * from './numbers.js';
export * from './metrics.js';
export * from './env.js';
