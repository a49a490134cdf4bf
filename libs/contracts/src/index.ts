export * from './envelope';
export * from './registry';
export * from './transfer';
