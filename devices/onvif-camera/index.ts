export * from './health-machine.js';
export * from './probe.js';
export * from './soap.js';
