export * from './infra';
export * from './postgres';
export * from './service';
