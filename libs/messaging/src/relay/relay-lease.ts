import { Client, type ClientConfig, type Pool } from 'pg';
import type { SqlClient } from '@lianfang/eventsourcing';

/**
 * Leadership of the outbox relay of one store schema: only the holder publishes, so per-stream order can
 * never be broken by two relays sending the same stream's rows at once.
 *
 * PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a dedicated connection, outside
 * the pool. The lease lives exactly as long as that connection: a leader that crashes, is SIGKILLed or loses
 * its connection frees it at once (the server releases session locks when the backend ends), and a standby
 * gets it on its next try. No expiry to tune, no clock to trust.
 *
 * PGlite: one process, one session (advisory locks are re-entrant within a session, so they cannot tell two
 * relays apart): the same calls run, plus an in-process registry per PGlite instance and schema.
 */
export interface RelayLease {
  /** True when this instance holds the lease (taking it if it is free). */
  tryAcquire(): Promise<boolean>;
  /** Still held? Cheap: checks the connection at most every `checkIntervalMs`, else trusts its events. */
  verify(): Promise<boolean>;
  readonly held: boolean;
  /** The server process id of the lease connection (PostgreSQL), for operators and fault tests. */
  readonly backendPid: number | undefined;
  /** Gives the lease up (unlock, close the connection). */
  release(): Promise<void>;
}

export interface RelayLeaseOptions {
  readonly client: SqlClient;
  readonly schema: string;
  readonly instanceId: string;
  /** How often `verify` pings the lease connection (default 1000 ms). */
  readonly checkIntervalMs?: number;
  /** Called once when a held lease is lost (connection dropped). */
  readonly onLost?: (reason: string) => void;
}

/** The advisory-lock key text of a schema's relay (hashed with hashtextextended on the server). */
export function relayLockName(schema: string): string {
  return `lianfang.outbox.relay:${schema}`;
}

/** `application_name` of a relay's lease connection (find it in pg_stat_activity). */
export function relayApplicationName(schema: string, instanceId: string): string {
  return `lf-outbox-relay:${schema}:${instanceId}`.slice(0, 63);
}

export function createRelayLease(options: RelayLeaseOptions): RelayLease {
  if (options.client.dialect === 'pglite') return new InProcessLease(options);
  const pool = (options.client as SqlClient & { pool?: Pool }).pool;
  if (!pool) {
    throw new Error('Outbox relay: a PostgreSQL SqlClient without a pool cannot hold a lease connection');
  }
  return new SessionLockLease(options, pool);
}

class SessionLockLease implements RelayLease {
  private conn: Client | undefined;
  private connecting: Promise<Client> | undefined;
  held = false;
  backendPid: number | undefined;
  private lastCheck = 0;
  private readonly checkInterval: number;

  constructor(
    private readonly options: RelayLeaseOptions,
    private readonly pool: Pool,
  ) {
    this.checkInterval = options.checkIntervalMs ?? 1000;
  }

  private connection(): Promise<Client> {
    if (this.conn) return Promise.resolve(this.conn);
    if (!this.connecting) {
      const conn = new Client({
        ...(this.pool.options as ClientConfig),
        application_name: relayApplicationName(this.options.schema, this.options.instanceId),
        keepAlive: true,
        // A half-open connection must not leave a leader believing it still leads.
        query_timeout: 10_000,
        connectionTimeoutMillis: 10_000,
      });
      const onDrop = (reason: string) => () => this.dropped(conn, reason);
      conn.on('error', (e: Error) => onDrop(e.message)());
      conn.on('end', onDrop('connection ended'));
      this.connecting = conn
        .connect()
        .then(() => {
          this.conn = conn;
          return conn;
        })
        .catch(async (error: unknown) => {
          await conn.end().catch(() => undefined);
          throw error;
        })
        .finally(() => {
          this.connecting = undefined;
        });
    }
    return this.connecting;
  }

  private dropped(conn: Client, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.backendPid = undefined;
    conn.end().catch(() => undefined);
    if (this.held) {
      this.held = false;
      this.options.onLost?.(reason);
    }
  }

  async tryAcquire(): Promise<boolean> {
    if (this.held && this.conn) return true;
    let conn: Client;
    try {
      conn = await this.connection();
    } catch {
      return false;
    }
    try {
      const r = await conn.query<{ ok: boolean; pid: number }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok, pg_backend_pid() AS pid',
        [relayLockName(this.options.schema)],
      );
      if (this.conn !== conn) return false;
      this.held = r.rows[0]?.ok === true;
      this.backendPid = this.held ? Number(r.rows[0].pid) : undefined;
      this.lastCheck = Date.now();
      return this.held;
    } catch {
      this.dropped(conn, 'lock query failed');
      return false;
    }
  }

  async verify(): Promise<boolean> {
    const conn = this.conn;
    if (!this.held || !conn) return false;
    if (Date.now() - this.lastCheck < this.checkInterval) return true;
    try {
      await conn.query('SELECT 1');
      this.lastCheck = Date.now();
      return this.held && this.conn === conn;
    } catch (error) {
      this.dropped(conn, `lease check failed: ${(error as Error).message}`);
      return false;
    }
  }

  async release(): Promise<void> {
    const pending = this.connecting;
    if (pending) await pending.catch(() => undefined);
    const conn = this.conn;
    this.conn = undefined;
    this.held = false;
    this.backendPid = undefined;
    if (!conn) return;
    conn.removeAllListeners('end');
    conn.removeAllListeners('error');
    conn.on('error', () => undefined);
    // Ending the session releases its advisory locks.
    await conn.end().catch(() => undefined);
  }
}

/** PGlite instance → schema → holder. */
const inProcessHolders = new WeakMap<object, Map<string, string>>();

class InProcessLease implements RelayLease {
  held = false;
  readonly backendPid = undefined;
  private readonly key: object;

  constructor(private readonly options: RelayLeaseOptions) {
    this.key = (options.client as SqlClient & { pglite?: object }).pglite ?? options.client;
  }

  private holders(): Map<string, string> {
    let map = inProcessHolders.get(this.key);
    if (!map) {
      map = new Map();
      inProcessHolders.set(this.key, map);
    }
    return map;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    const holders = this.holders();
    const holder = holders.get(this.options.schema);
    if (holder !== undefined && holder !== this.options.instanceId) return false;
    holders.set(this.options.schema, this.options.instanceId);
    try {
      // The same call as on PostgreSQL (always granted here: one session).
      const r = await this.options.client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
        [relayLockName(this.options.schema)],
      );
      this.held = r.rows[0]?.ok === true;
    } catch {
      this.held = false;
    }
    if (!this.held && holders.get(this.options.schema) === this.options.instanceId) {
      holders.delete(this.options.schema);
    }
    return this.held;
  }

  async verify(): Promise<boolean> {
    return this.held;
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const holders = this.holders();
    if (holders.get(this.options.schema) === this.options.instanceId) holders.delete(this.options.schema);
    await this.options.client
      .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [relayLockName(this.options.schema)])
      .catch(() => undefined);
  }
}
