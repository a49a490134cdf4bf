export * from './errors';
export * from './forwarded/forwarded-identity';
export * from './identity';
