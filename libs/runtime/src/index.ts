export * from './config';
export * from './health';
export * from './platform.module';
export * from './service';
export * from './service-config';
export * from './tokens';
export * from './platform/index';
export * from './observability/index';
