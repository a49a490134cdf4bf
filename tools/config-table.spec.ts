import { readFileSync } from 'node:fs';
import { configTable, README, readmeTable } from './config-table';

describe('README configuration table', () => {
  it('is the one generated from the apps’ configuration schemas (npm run -s config-table -- --write)', () => {
    expect(readmeTable(readFileSync(README, 'utf8'))).toBe(configTable());
  });

  it('lists every variable of every app, with what it means', () => {
    const table = configTable();
    for (const variable of [
      'GATEWAY_SIGNING_KEY',
      'GATEWAY_PUBLIC_KEY',
      'EVENT_STORE',
      'KAFKA_BROKERS',
      'AUTH_ISSUER',
    ])
      expect(table).toContain(`| \`${variable}\` |`);
  });
});
