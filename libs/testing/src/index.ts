export * from './infra';
export * from './postgres';
export * from './service';
export * from './decider/given-when-then';
export * from './child-process';
export * from './subgraph';
