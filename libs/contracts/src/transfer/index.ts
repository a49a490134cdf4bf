export * from './validators';
export * from './agreement';
export * from './transfer-approved';
export * from './manifest';
export * from './oversight';
export * from './contracts';
export * from './examples';
