export * from './current-identity';
export * from './rule-guard';
