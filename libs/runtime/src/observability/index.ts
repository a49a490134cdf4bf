export * from './logger';
export { formatLine as formatLogLine, prettyDestination } from './pretty';
export * from './request-context';
export * from './metrics';
export * from './collectors';
export * from './observability.module';
export {
  currentTrace,
  runWithTrace,
  createTrace,
  traceHeaders,
  type TraceContext,
} from '@lianfang/messaging';
