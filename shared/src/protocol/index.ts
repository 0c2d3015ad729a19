export * from './audit.ts';
export * from './auth.ts';
export * from './contract.ts';
export * from './devices.ts';
export * from './errors.ts';
export * from './health.ts';
export * from './users.ts';
export * from './ws.ts';
