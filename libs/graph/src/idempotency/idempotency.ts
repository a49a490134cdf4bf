import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Identity } from '@lianfang/auth';
import {
  assertSqlIdentifier,
  decodeJson,
  encodeJson,
  hashCommand,
  type SqlClient,
} from '@lianfang/eventsourcing';
import { describeError } from '../errors/describe-error';
import { InputError, PlatformError, type ErrorExtensions } from '../errors/graph-errors';

/**
 * Mutations carry an `idempotencyKey` chosen by the client. The first call with a key runs and its outcome
 * is recorded, success or typed failure; a retry with the same key and the same input gets that outcome
 * again without running anything; the same key with different input is refused (IDEMPOTENCY_CONFLICT).
 * Keys are scoped per agency: two agencies may use the same key.
 *
 * Concurrent first calls: a call claims the key by inserting a `pending` row (the primary key lets one
 * insert win); the others wait for the outcome. A claim has a lease: if its holder died, the next caller
 * takes it over once the lease has run out. An unexpected error (not a typed failure: a crash, an
 * outage) releases the claim, so the retry runs again.
 */
export interface IdempotentRequest {
  readonly identity: Pick<Identity, 'agencyId' | 'subject'>;
  /** The client's key (1–128 visible ASCII characters). */
  readonly key: unknown;
  /** The mutation, e.g. `approveTransfer`: the same key on another operation is a conflict. */
  readonly operation: string;
  /** The input that must match on a retry (leave out the key itself). */
  readonly payload: unknown;
}

export interface IdempotencyStore {
  /**
   * Runs `execute` once per (agency, key); returns its result, or rethrows its typed failure, for every
   * call with that key. Results should be plain data (bigint and Date survive; class instances come back
   * as what their `toJSON` gives).
   */
  runIdempotent<T>(request: IdempotentRequest, execute: () => Promise<T>): Promise<T>;
  /** Creates the table (also done on first use). */
  migrate(): Promise<void>;
}

export interface IdempotencyStoreOptions {
  /** The service's schema (DATABASE_SCHEMA). */
  readonly schema: string;
  /** How long a claim holds before another caller may take it over (default 60 s). */
  readonly leaseMs?: number;
  /** How long a second caller waits for the first one's outcome (default 30 s). */
  readonly waitMs?: number;
  /** How often it looks (default 25 ms, doubling up to 500 ms). */
  readonly pollMs?: number;
}

export const IDEMPOTENCY_KEY_FIELD = 'idempotencyKey';
const KEY = /^[\x21-\x7e]+$/;

/** The key as given, or an InputError naming the field and the rule. */
export function validateIdempotencyKey(key: unknown, field = IDEMPOTENCY_KEY_FIELD): string {
  if (typeof key !== 'string' || key.length < 1 || key.length > 128)
    throw new InputError({
      field,
      rule: 'idempotencyKey.length',
      messages: {
        zh: '幂等键须为 1 至 128 个字符的字符串',
        en: 'an idempotency key is a string of 1 to 128 characters',
      },
    });
  if (!KEY.test(key))
    throw new InputError({
      field,
      rule: 'idempotencyKey.format',
      messages: {
        zh: '幂等键只能包含可见的 ASCII 字符（不含空格），如 UUID',
        en: 'an idempotency key holds visible ASCII characters only (no spaces), e.g. a UUID',
      },
    });
  return key;
}

export function idempotencyConflict(field = IDEMPOTENCY_KEY_FIELD): PlatformError {
  return new PlatformError({
    code: 'IDEMPOTENCY_CONFLICT',
    category: 'CONFLICT',
    field,
    rule: 'idempotencyKey.reused',
    messages: {
      zh: '该幂等键已用于另一个不同的请求：每个新请求请使用新的键',
      en: 'this idempotency key was already used for a different request: use a new key for each new request',
    },
  });
}

function inProgress(field = IDEMPOTENCY_KEY_FIELD): PlatformError {
  return new PlatformError({
    code: 'IDEMPOTENCY_IN_PROGRESS',
    category: 'CONFLICT',
    field,
    rule: 'idempotencyKey.in-progress',
    messages: {
      zh: '使用该幂等键的请求仍在处理中：请稍后用同一个键重试',
      en: 'a request with this idempotency key is still being processed: retry later with the same key',
    },
  });
}

interface Row {
  operation: string;
  payload_hash: string;
  state: 'pending' | 'succeeded' | 'failed';
  owner: string;
  outcome: string | null;
  expired: boolean;
}

export function createIdempotencyStore(sql: SqlClient, options: IdempotencyStoreOptions): IdempotencyStore {
  const s = assertSqlIdentifier(options.schema, 'schema name');
  const table = `${s}.graph_idempotency`;
  const leaseMs = options.leaseMs ?? 60_000;
  const waitMs = options.waitMs ?? 30_000;
  const pollMs = options.pollMs ?? 25;
  let migrated: Promise<void> | undefined;

  const migrate = () =>
    (migrated ??= sql
      .transaction(async (tx) => {
        // Two processes creating the table at once would race on the catalog: serialise them.
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lianfang.graph_idempotency.${s}`]);
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await tx.query(`
          CREATE TABLE IF NOT EXISTS ${table} (
            agency_id text NOT NULL,
            idempotency_key text NOT NULL,
            operation text NOT NULL,
            -- SHA-256 of the operation and its input: a retry must send the same
            payload_hash text NOT NULL,
            state text NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
            owner uuid NOT NULL,
            lease_until timestamptz NOT NULL,
            -- the result (tagged JSON, see encodeJson) or the typed failure's extensions
            outcome text,
            subject text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            completed_at timestamptz,
            PRIMARY KEY (agency_id, idempotency_key)
          )`);
      })
      .catch((e: unknown) => {
        migrated = undefined;
        throw e;
      }));

  async function claim(agencyId: string, key: string, operation: string, hash: string, subject: string) {
    const owner = randomUUID();
    const r = await sql.query(
      `INSERT INTO ${table} (agency_id, idempotency_key, operation, payload_hash, state, owner, lease_until, subject)
       VALUES ($1, $2, $3, $4, 'pending', $5, now() + $6::double precision * interval '1 millisecond', $7)
       ON CONFLICT (agency_id, idempotency_key) DO NOTHING`,
      [agencyId, key, operation, hash, owner, leaseMs, subject],
    );
    return r.rowCount === 1 ? owner : undefined;
  }

  async function takeOver(agencyId: string, key: string, previous: string) {
    const owner = randomUUID();
    const r = await sql.query(
      `UPDATE ${table} SET owner = $4, lease_until = now() + $5::double precision * interval '1 millisecond'
       WHERE agency_id = $1 AND idempotency_key = $2 AND state = 'pending' AND owner = $3`,
      [agencyId, key, previous, owner, leaseMs],
    );
    return r.rowCount === 1 ? owner : undefined;
  }

  async function read(agencyId: string, key: string): Promise<Row | undefined> {
    const r = await sql.query<Row>(
      `SELECT operation, payload_hash, state, owner::text AS owner, outcome, lease_until < now() AS expired
       FROM ${table} WHERE agency_id = $1 AND idempotency_key = $2`,
      [agencyId, key],
    );
    return r.rows[0];
  }

  async function finish(
    agencyId: string,
    key: string,
    owner: string,
    state: 'succeeded' | 'failed',
    outcome: string,
  ) {
    await sql.query(
      `UPDATE ${table} SET state = $4, outcome = $5, completed_at = now()
       WHERE agency_id = $1 AND idempotency_key = $2 AND owner = $3`,
      [agencyId, key, owner, state, outcome],
    );
  }

  async function release(agencyId: string, key: string, owner: string) {
    await sql.query(
      `DELETE FROM ${table} WHERE agency_id = $1 AND idempotency_key = $2 AND owner = $3 AND state = 'pending'`,
      [agencyId, key, owner],
    );
  }

  return {
    migrate,
    async runIdempotent<T>(request: IdempotentRequest, execute: () => Promise<T>): Promise<T> {
      const key = validateIdempotencyKey(request.key);
      const { agencyId, subject } = request.identity;
      const hash = hashCommand({ operation: request.operation, payload: request.payload });
      await migrate();

      const run = async (owner: string): Promise<T> => {
        let result: T;
        try {
          result = await execute();
        } catch (e) {
          const typed = describeError(e);
          if (typed) {
            // A replay gets its own correlation id.
            const { correlationId, ...failure } = typed;
            await finish(agencyId, key, owner, 'failed', JSON.stringify(failure));
          } else {
            await release(agencyId, key, owner).catch(() => undefined);
          }
          throw e;
        }
        await finish(agencyId, key, owner, 'succeeded', encodeJson(result === undefined ? null : result));
        return result;
      };

      const deadline = Date.now() + waitMs;
      let delay = pollMs;
      for (;;) {
        const owner = await claim(agencyId, key, request.operation, hash, subject);
        if (owner) return run(owner);
        const row = await read(agencyId, key);
        if (!row) continue; // released between our insert and our read: claim again
        if (row.operation !== request.operation || row.payload_hash !== hash) throw idempotencyConflict();
        if (row.state === 'succeeded') return decodeJson(row.outcome ?? 'null') as T;
        if (row.state === 'failed')
          throw PlatformError.fromExtensions(JSON.parse(row.outcome ?? '{}') as ErrorExtensions);
        if (row.expired) {
          const taken = await takeOver(agencyId, key, row.owner);
          if (taken) return run(taken);
          continue;
        }
        if (Date.now() >= deadline) throw inProgress();
        await sleep(delay);
        delay = Math.min(delay * 2, 500);
      }
    },
  };
}
