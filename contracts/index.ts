/**
 * The contracts between the platform and its clients: HTTP request and response bodies and the
 * Socket.IO events, one zod schema each. The server validates with these; the console derives
 * its types from them with type-only imports, so none of this code ships to the browser.
 */
export * from './accounts.js';
export * from './audit.js';
export * from './broadcasts.js';
export * from './cameras.js';
export * from './commands.js';
export * from './console.js';
export * from './demo.js';
export * from './history.js';
export * from './live.js';
export * from './media.js';
export * from './pages.js';
export * from './realtime.js';
export * from './registry.js';
export * from './schedules.js';
export * from './stations.js';
export * from './tts.js';
