export * from './batch-trigger.js';
export * from './classification.js';
export * from './lint.js';
export * from './schema-source.js';
