// The AXYB wire protocol: one import for the worker's activities, the webhook and the simulator.
export * from './schemas';
export * from './aksk';
export * from './resultCodes';
export * from './mask';
export * from './client';
export * from './fromEnv';
