/**
 * The two real backends the auth library's SQL runs on: PostgreSQL (a fresh database per suite) and
 * PGlite (in memory). Test-only; not exported from the library.
 */
import { createPgliteClient, createPostgresClient, type SqlClient } from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';

/** Runs `suite` once against PostgreSQL and once against PGlite. */
export function forEachSqlBackend(name: string, suite: (client: () => SqlClient) => void): void {
  describeWithPostgres(`${name} (PostgreSQL)`, () => {
    const db = useTestDatabase('auth');
    let client: SqlClient | undefined;
    beforeAll(() => {
      client = createPostgresClient({ pool: db().pool({ max: 4 }) });
    });
    afterAll(async () => {
      await client?.close();
    });
    suite(() => required(client));
  });

  describe(`${name} (PGlite)`, () => {
    let client: SqlClient | undefined;
    beforeAll(async () => {
      client = await createPgliteClient({ memory: true });
    });
    afterAll(async () => {
      await client?.close();
    });
    suite(() => required(client));
  });
}

function required(client: SqlClient | undefined): SqlClient {
  if (!client) throw new Error('The client exists only inside tests (after beforeAll)');
  return client;
}
