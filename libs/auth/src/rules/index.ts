export * from './access-denied';
export * from './names';
export * from './rule';
export * from './scopes';
