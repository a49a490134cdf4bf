export * from './work-item.types';
export * from './work-items.sql';
