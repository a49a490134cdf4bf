import { Client, Pool, type ClientConfig, type PoolClient, type PoolConfig } from 'pg';
import {
  assertSqlIdentifier,
  type SqlClient,
  type SqlExecutor,
  type SqlQueryOptions,
  type SqlResult,
} from './sql-client';

export interface PostgresClientOptions {
  /** An existing pool: used as is (its own `max`), and not ended by `close()`. */
  readonly pool?: Pool;
  /** Otherwise a pool of our own on this database. */
  readonly connectionString?: string;
  /** Cap of our own pool (default 10). Ignored with `pool`. */
  readonly max?: number;
  /** Extra settings for our own pool (and the listener connection). */
  readonly poolConfig?: Omit<PoolConfig, 'connectionString' | 'max'>;
  readonly applicationName?: string;
  /** Listener reconnect backoff bounds (ms). */
  readonly reconnect?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
}

export interface PostgresSqlClient extends SqlClient {
  readonly dialect: 'postgres';
  readonly pool: Pool;
}

type Listener = (payload: string) => void;

function toResult<R>(r: { rows: unknown[]; rowCount: number | null }): SqlResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
}

function config(text: string, params: readonly unknown[] | undefined, options: SqlQueryOptions | undefined) {
  return { text, values: params as unknown[] | undefined, name: options?.name, rowMode: options?.rowMode };
}

/**
 * A SqlClient over a `pg` Pool: queries on any pooled connection, transactions on one checked-out
 * connection, LISTEN on one dedicated connection (outside the pool) that reconnects when it drops.
 * int8 values come back as strings (pg's default, never a JS number): convert with `toBigInt`.
 */
export function createPostgresClient(options: PostgresClientOptions): PostgresSqlClient {
  if (!options.pool && !options.connectionString) {
    throw new Error('createPostgresClient: give a pool or a connectionString');
  }
  const ownsPool = !options.pool;
  const pool =
    options.pool ??
    new Pool({
      ...options.poolConfig,
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: options.applicationName ?? options.poolConfig?.application_name,
    });
  if (ownsPool) {
    // An idle pooled connection that dies (server restart) emits 'error' on the pool; without a
    // handler that would crash the process. The pool drops the connection and opens a new one later.
    pool.on('error', () => undefined);
  }
  const listenerConfig: ClientConfig = { ...(pool.options as ClientConfig), keepAlive: true };
  const listener = new PgListener(listenerConfig, options.reconnect);
  let closed = false;

  const checkOpen = () => {
    if (closed) throw new Error('SqlClient is closed');
  };

  return {
    dialect: 'postgres',
    pool,
    async query<R>(text: string, params?: readonly unknown[], options?: SqlQueryOptions) {
      checkOpen();
      return toResult<R>(await pool.query(config(text, params, options)));
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      checkOpen();
      const conn = await pool.connect();
      let done = false;
      const tx: SqlExecutor = {
        async query<R>(text: string, params?: readonly unknown[], options?: SqlQueryOptions) {
          if (done) throw new Error('The transaction is over: this executor can no longer be used');
          return toResult<R>(await conn.query(config(text, params, options)));
        },
      };
      try {
        await conn.query('BEGIN');
        const result = await fn(tx);
        await conn.query('COMMIT');
        done = true;
        conn.release();
        return result;
      } catch (error) {
        done = true;
        await rollbackAndRelease(conn);
        throw error;
      }
    },
    async listen(channel: string, onNotify: Listener) {
      checkOpen();
      assertSqlIdentifier(channel, 'channel name');
      return listener.add(channel, onNotify);
    },
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      if (ownsPool) await pool.end();
    },
  };
}

async function rollbackAndRelease(conn: PoolClient): Promise<void> {
  try {
    await conn.query('ROLLBACK');
    conn.release();
  } catch (error) {
    // The connection is in an unknown state: destroy it rather than hand it to the next caller.
    conn.release(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * One LISTEN connection shared by every `listen()` of a client. When it drops (network, server restart,
 * pg_terminate_backend), it reconnects with exponential backoff, re-issues LISTEN for every channel, then
 * calls each callback with `''`: notifications sent while it was away are lost, and the listeners
 * (tailing readers, the outbox relay) must look for themselves.
 */
class PgListener {
  private readonly channels = new Map<string, Set<Listener>>();
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private ops: Promise<unknown> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;
  private readonly minDelay: number;
  private readonly maxDelay: number;

  constructor(
    private readonly config: ClientConfig,
    reconnect?: { readonly minDelayMs?: number; readonly maxDelayMs?: number },
  ) {
    this.minDelay = reconnect?.minDelayMs ?? 100;
    this.maxDelay = reconnect?.maxDelayMs ?? 5000;
  }

  /** Serialises LISTEN/UNLISTEN/connect so they never interleave on the connection. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.ops.then(op, op);
    this.ops = next.catch(() => undefined);
    return next;
  }

  async add(channel: string, callback: Listener): Promise<() => Promise<void>> {
    await this.serial(async () => {
      if (this.closed) throw new Error('SqlClient is closed');
      let set = this.channels.get(channel);
      const first = !set;
      if (!set) {
        set = new Set();
        this.channels.set(channel, set);
      }
      set.add(callback);
      try {
        const client = await this.connected();
        if (first) await client.query(`LISTEN ${channel}`);
      } catch (error) {
        set.delete(callback);
        if (set.size === 0) this.channels.delete(channel);
        // A connection that failed is retried by the reconnect loop; a LISTEN that failed on a live
        // connection is the caller's problem.
        if (this.channels.size > 0) this.scheduleReconnect();
        throw error;
      }
    });
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      await this.serial(async () => {
        const set = this.channels.get(channel);
        if (!set) return;
        set.delete(callback);
        if (set.size > 0) return;
        this.channels.delete(channel);
        if (this.client) await this.client.query(`UNLISTEN ${channel}`).catch(() => undefined);
        if (this.channels.size === 0) await this.disconnect();
      });
    };
  }

  private async connected(): Promise<Client> {
    if (this.client) return this.client;
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async open(): Promise<Client> {
    const client = new Client(this.config);
    client.on('notification', (msg) => {
      const set = this.channels.get(msg.channel);
      if (!set) return;
      for (const cb of [...set]) safeCall(cb, msg.payload ?? '');
    });
    const onDrop = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (!this.closed && this.channels.size > 0) this.scheduleReconnect();
    };
    client.on('error', onDrop);
    client.on('end', onDrop);
    try {
      await client.connect();
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.attempt = 0;
    return client;
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.closed) return;
    const delay = Math.min(this.maxDelay, this.minDelay * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.serial(async () => {
        if (this.closed || this.client || this.channels.size === 0) return;
        try {
          const client = await this.connected();
          for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
        } catch {
          await this.disconnect();
          this.scheduleReconnect();
          return;
        }
        // Whatever was notified while we were away is lost: wake everyone up.
        for (const set of this.channels.values()) for (const cb of [...set]) safeCall(cb, '');
      });
    }, delay);
    this.retryTimer.unref?.();
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.serial(async () => {
      this.channels.clear();
      await this.disconnect();
    });
  }
}

function safeCall(cb: Listener, payload: string): void {
  try {
    cb(payload);
  } catch {
    // A listener's failure is its own; it must not stop the others or the connection.
  }
}
