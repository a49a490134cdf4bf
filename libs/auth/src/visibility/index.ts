export * from './filter';
export * from './page-request-error';
export * from './paginate';
export * from './policy';
