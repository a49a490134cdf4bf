export * from './personal-data';
export * from './key-store';
export * from './codec';
