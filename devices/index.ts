export * from './shared/clock.js';
export * from './shared/device-id.js';
export * from './shared/time.js';
export * from './speaker-cluster/command-builders.js';
export * from './speaker-cluster/messages.js';
export * from './speaker-cluster/publish.js';
export * from './speaker-cluster/topics.js';
