import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { assertSqlIdentifier, type SqlClient, type SqlExecutor } from '../sql/sql-client';
import type { SubjectDataKey } from './personal-data';

/**
 * The per-subject data keys, kept OUTSIDE the event streams: a table of their own
 * (`<schema>.subject_keys`), which may live in the same database as the events or another one (pass
 * another SqlClient). Data keys are stored wrapped (AES-256-GCM) with a master key from configuration
 * (`PERSONAL_DATA_MASTER_KEY`), so a copy of the table alone reveals nothing.
 *
 * Erasing a subject sets its wrapped key to NULL and records when, by whom and why; the row stays as the
 * audit record, and a later `getOrCreateKey` for that subject refuses (the domain mints a new subject id
 * if the person comes back). A table CHECK makes "erased" and "has key material" mutually exclusive.
 *
 * Caching: keys are cached in memory (LRU, `cacheSize` entries) for `cacheTtlMs` (default 60 s).
 * `erase` invalidates this process's cache at once; OTHER processes holding the key in their cache keep
 * decrypting until their entry expires (at most `cacheTtlMs`) and see the erasure on their next miss.
 * Keep the TTL short. Erasure is final, so "erased" is cached without expiry.
 *
 * What erasure does not do: PostgreSQL keeps the old row version until VACUUM, and WAL and backups keep
 * the wrapped key until they age out. Those copies are wrapped with the master key; retention of
 * backups and WAL archives (and VACUUM) bounds how long an erased key is physically recoverable.
 */

export const MASTER_KEY_ENV = 'PERSONAL_DATA_MASTER_KEY';

/**
 * The dev/embedded default master key: public, fixed, so the embedded mode works with no configuration
 * and its data survives restarts. Never used unless the caller explicitly asks for embedded/dev mode.
 */
export const DEV_MASTER_KEY_BASE64 = createHash('sha256')
  .update('lianfang: embedded/dev master key. PUBLIC, NOT A SECRET. Never use in production.')
  .digest('base64');

/** Misconfiguration of personal-data protection: missing or malformed master key, or the wrong one. */
export class PersonalDataConfigError extends Error {
  override readonly name = 'PersonalDataConfigError';
}

/** The subject has been erased: its key is gone and no new data may be protected for it. */
export class SubjectErasedError extends Error {
  override readonly name = 'SubjectErasedError';
  constructor(readonly subject: string) {
    super(
      `Subject "${subject}" has been erased; its personal data cannot be protected again / 该主体的个人数据已删除`,
    );
  }
}

/** An envelope names a subject the key store has no row for: wrong database or schema, or lost keys. */
export class SubjectKeyMissingError extends Error {
  override readonly name = 'SubjectKeyMissingError';
  constructor(readonly subject: string) {
    super(
      `No key row for subject "${subject}": is the key store pointed at the right database and schema? (erased subjects keep their row)`,
    );
  }
}

const MASTER_KEY_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses a base64 master key; the error names PERSONAL_DATA_MASTER_KEY. */
export function parseMasterKey(value: string | Buffer | Uint8Array | undefined | null): Buffer {
  if (value === undefined || value === null || value === '') {
    throw new PersonalDataConfigError(
      `${MASTER_KEY_ENV} is not set: give a ${MASTER_KEY_BYTES}-byte key in base64 (e.g. \`openssl rand -base64 32\`)`,
    );
  }
  let bytes: Buffer;
  if (typeof value === 'string') {
    const text = value.trim();
    if (!BASE64.test(text)) throw new PersonalDataConfigError(`${MASTER_KEY_ENV} is not valid base64`);
    bytes = Buffer.from(text, 'base64');
  } else {
    bytes = Buffer.from(value);
  }
  if (bytes.length !== MASTER_KEY_BYTES) {
    throw new PersonalDataConfigError(
      `${MASTER_KEY_ENV} must be ${MASTER_KEY_BYTES} bytes (base64 of 32 random bytes), got ${bytes.length} bytes`,
    );
  }
  return bytes;
}

export interface MasterKeyFromEnvOptions {
  /**
   * `embedded` (or `dev`) falls back to the public DEV_MASTER_KEY when the variable is unset; `server`
   * (the default) requires it.
   */
  readonly mode?: 'server' | 'embedded' | 'dev';
  /** Told when the dev default is used. */
  readonly warn?: (message: string) => void;
}

/** Reads PERSONAL_DATA_MASTER_KEY from the environment. */
export function masterKeyFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: MasterKeyFromEnvOptions = {},
): Buffer {
  const value = env[MASTER_KEY_ENV];
  if ((value === undefined || value === '') && (options.mode === 'embedded' || options.mode === 'dev')) {
    options.warn?.(
      `${MASTER_KEY_ENV} is not set: using the public development master key (embedded/dev mode only)`,
    );
    return Buffer.from(DEV_MASTER_KEY_BASE64, 'base64');
  }
  return parseMasterKey(value);
}

/** A short public fingerprint of a master key, stored beside each wrapped key to detect a wrong key. */
export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update('lianfang.master-key-id\0').update(masterKey).digest('hex').slice(0, 16);
}

/** What the key store knows about one subject. */
export type SubjectKeyLookup =
  | { readonly state: 'active'; readonly key: SubjectDataKey }
  | { readonly state: 'erased'; readonly subject: string }
  | { readonly state: 'missing'; readonly subject: string };

/** The audit record of an erasure. */
export interface SubjectErasure {
  readonly subject: string;
  readonly erasedAt: Date;
  readonly erasedBy: string;
  readonly reason: string;
  /** True when the subject had been erased already: nothing changed, this is the first record. */
  readonly alreadyErased: boolean;
  /** False when the subject never had a key: a tombstone row was written so none can be created. */
  readonly hadKey: boolean;
}

export interface EraseRequest {
  /** Who asked, e.g. a user id or `system:retention`. */
  readonly by: string;
  /** Why, e.g. the request reference. */
  readonly reason: string;
}

export interface SubjectKeyStoreOptions {
  /** The master key: 32 bytes, or base64 text (see `masterKeyFromEnv`). Validated here. */
  readonly masterKey: Buffer | Uint8Array | string | undefined;
  /**
   * Schema of the `subject_keys` table, created by `ensureSchema` if missing; default: the connection's
   * search_path (like the projections' bookkeeping).
   */
  readonly schema?: string;
  /** Entries in the in-memory LRU (default 1000; 0 disables caching). */
  readonly cacheSize?: number;
  /** How long a cached key is trusted before the table is asked again (default 60 000 ms). */
  readonly cacheTtlMs?: number;
  /** Clock for the cache TTL (tests). */
  readonly now?: () => number;
}

type CacheEntry =
  | { readonly state: 'active'; readonly key: SubjectDataKey; readonly expiresAt: number }
  | { readonly state: 'erased' };

interface KeyRow {
  subject_id: string;
  key_id: string | null;
  wrapped_key: Uint8Array | null;
  master_kid: string | null;
  erased_at: Date | string | null;
}

interface ErasureRow {
  subject_id: string;
  key_id: string | null;
  erased_at: Date | string | null;
  erased_by: string | null;
  erase_reason: string | null;
}

const WRAP_IV_BYTES = 12;
const WRAP_TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
/** Subjects per `= ANY($1)` lookup. */
const LOOKUP_CHUNK = 1000;

function toDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}

export class SubjectKeyStore {
  private readonly masterKey: Buffer;
  private readonly masterKid: string;
  private readonly table: string;
  private readonly schema: string | undefined;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  /** Map order is the LRU order: least recently used first. */
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly client: SqlClient,
    options: SubjectKeyStoreOptions,
  ) {
    this.masterKey = parseMasterKey(options.masterKey);
    this.masterKid = masterKeyId(this.masterKey);
    this.schema =
      options.schema === undefined ? undefined : assertSqlIdentifier(options.schema, 'schema name');
    this.table = this.schema === undefined ? 'subject_keys' : `${this.schema}.subject_keys`;
    this.cacheSize = options.cacheSize ?? 1000;
    this.cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** A key store with its table in place. */
  static async open(client: SqlClient, options: SubjectKeyStoreOptions): Promise<SubjectKeyStore> {
    const store = new SubjectKeyStore(client, options);
    await store.ensureSchema();
    return store;
  }

  /** Creates the schema and table if missing; safe to run concurrently from several processes. */
  async ensureSchema(): Promise<void> {
    await this.client.transaction(async (tx) => {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog: serialize the creators.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('lianfang.subject_keys.ddl'))`);
      if (this.schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS ${this.table} (
          subject_id   text PRIMARY KEY,
          key_id       text,
          wrapped_key  bytea,
          master_kid   text,
          created_at   timestamptz NOT NULL DEFAULT now(),
          erased_at    timestamptz,
          erased_by    text,
          erase_reason text,
          CONSTRAINT subject_keys_erased_has_no_key CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
        )`);
    });
  }

  /**
   * The subject's data key, created on first use. Race-safe across connections and processes: a caller
   * that finds no row inserts a fresh candidate with ON CONFLICT DO NOTHING, then reads the row that won.
   * Throws SubjectErasedError for an erased subject.
   */
  async getOrCreateKey(subject: string): Promise<SubjectDataKey> {
    const cached = this.cached(subject);
    if (cached?.state === 'active') return cached.key;
    if (cached?.state === 'erased') throw new SubjectErasedError(subject);

    const existing = (await this.fetch([subject])).get(subject);
    if (existing?.state === 'active') return existing.key;
    if (existing?.state === 'erased') throw new SubjectErasedError(subject);

    const kid = randomBytes(8).toString('hex');
    const dataKey = randomBytes(DATA_KEY_BYTES);
    await this.client.query(
      `INSERT INTO ${this.table} (subject_id, key_id, wrapped_key, master_kid) VALUES ($1, $2, $3, $4)
       ON CONFLICT (subject_id) DO NOTHING`,
      [subject, kid, this.wrap(subject, kid, dataKey), this.masterKid],
    );
    // A separate statement: under READ COMMITTED it sees the row of a concurrent winner once that commits.
    const lookup = (await this.fetch([subject])).get(subject);
    if (lookup?.state === 'active') return lookup.key;
    if (lookup?.state === 'erased') throw new SubjectErasedError(subject);
    throw new SubjectKeyMissingError(subject);
  }

  /** One subject's key state (cached). */
  async getKey(subject: string): Promise<SubjectKeyLookup> {
    return (await this.getKeys([subject])).get(subject) as SubjectKeyLookup;
  }

  /**
   * The key state of many subjects at once: cache hits first, then one query per 1000 misses. This is
   * what lets a batch of 10 000 events be revealed with a handful of queries.
   */
  async getKeys(subjects: Iterable<string>): Promise<Map<string, SubjectKeyLookup>> {
    const result = new Map<string, SubjectKeyLookup>();
    const misses: string[] = [];
    for (const subject of new Set(subjects)) {
      const hit = this.cached(subject);
      if (hit?.state === 'active') result.set(subject, { state: 'active', key: hit.key });
      else if (hit?.state === 'erased') result.set(subject, { state: 'erased', subject });
      else misses.push(subject);
    }
    if (misses.length > 0) for (const [s, lookup] of await this.fetch(misses)) result.set(s, lookup);
    return result;
  }

  /**
   * Erases the subject: its key material is deleted (wrapped_key NULL) and the row keeps when, by whom and
   * why. Idempotent: erasing again changes nothing and returns the first record (`alreadyErased`).
   * A subject that never had a key gets a tombstone row, so no key can be created for it later.
   */
  async erase(subject: string, request: EraseRequest): Promise<SubjectErasure> {
    if (!request.by || !request.reason) {
      throw new Error('erase: `by` and `reason` are required for the audit record');
    }
    const erasure = await this.client.transaction(async (tx): Promise<SubjectErasure> => {
      const tombstone = await tx.query<ErasureRow>(
        `INSERT INTO ${this.table} (subject_id, erased_at, erased_by, erase_reason) VALUES ($1, now(), $2, $3)
         ON CONFLICT (subject_id) DO NOTHING
         RETURNING subject_id, key_id, erased_at, erased_by, erase_reason`,
        [subject, request.by, request.reason],
      );
      if (tombstone.rows.length > 0) return this.toErasure(tombstone.rows[0], false, false);
      const current = await this.lockRow(tx, subject);
      if (current.erased_at !== null) return this.toErasure(current, true, current.key_id !== null);
      const updated = await tx.query<ErasureRow>(
        `UPDATE ${this.table} SET wrapped_key = NULL, erased_at = now(), erased_by = $2, erase_reason = $3
         WHERE subject_id = $1
         RETURNING subject_id, key_id, erased_at, erased_by, erase_reason`,
        [subject, request.by, request.reason],
      );
      return this.toErasure(updated.rows[0], false, true);
    });
    this.remember(subject, { state: 'erased' });
    return erasure;
  }

  /** The erasure record of a subject, or undefined when it is not erased. */
  async erasure(subject: string): Promise<Omit<SubjectErasure, 'alreadyErased'> | undefined> {
    const { rows } = await this.client.query<ErasureRow>(
      `SELECT subject_id, key_id, erased_at, erased_by, erase_reason FROM ${this.table}
       WHERE subject_id = $1 AND erased_at IS NOT NULL`,
      [subject],
    );
    if (rows.length === 0) return undefined;
    const { alreadyErased: _ignored, ...record } = this.toErasure(rows[0], true, rows[0].key_id !== null);
    return record;
  }

  /** Forgets every cached key (e.g. on a signal from another process that erased a subject). */
  clearCache(): void {
    this.cache.clear();
  }

  private async lockRow(tx: SqlExecutor, subject: string): Promise<ErasureRow> {
    const { rows } = await tx.query<ErasureRow>(
      `SELECT subject_id, key_id, erased_at, erased_by, erase_reason FROM ${this.table}
       WHERE subject_id = $1 FOR UPDATE`,
      [subject],
    );
    return rows[0];
  }

  private toErasure(row: ErasureRow, alreadyErased: boolean, hadKey: boolean): SubjectErasure {
    return {
      subject: row.subject_id,
      erasedAt: toDate(row.erased_at as Date | string),
      erasedBy: row.erased_by ?? '',
      reason: row.erase_reason ?? '',
      alreadyErased,
      hadKey,
    };
  }

  private async fetch(subjects: readonly string[]): Promise<Map<string, SubjectKeyLookup>> {
    const result = new Map<string, SubjectKeyLookup>();
    for (let i = 0; i < subjects.length; i += LOOKUP_CHUNK) {
      const chunk = subjects.slice(i, i + LOOKUP_CHUNK);
      const { rows } = await this.client.query<KeyRow>(
        `SELECT subject_id, key_id, wrapped_key, master_kid, erased_at FROM ${this.table}
         WHERE subject_id = ANY($1::text[])`,
        [chunk],
      );
      for (const row of rows) {
        if (row.erased_at !== null || row.wrapped_key === null || row.key_id === null) {
          result.set(row.subject_id, { state: 'erased', subject: row.subject_id });
          this.remember(row.subject_id, { state: 'erased' });
          continue;
        }
        const key: SubjectDataKey = {
          subject: row.subject_id,
          kid: row.key_id,
          key: this.unwrap(row.subject_id, row.key_id, row.master_kid, Buffer.from(row.wrapped_key)),
        };
        result.set(row.subject_id, { state: 'active', key });
        this.remember(row.subject_id, { state: 'active', key, expiresAt: this.now() + this.cacheTtlMs });
      }
      for (const subject of chunk)
        if (!result.has(subject)) result.set(subject, { state: 'missing', subject });
    }
    return result;
  }

  private cached(subject: string): CacheEntry | undefined {
    const entry = this.cache.get(subject);
    if (!entry) return undefined;
    if (entry.state === 'active' && entry.expiresAt <= this.now()) {
      this.cache.delete(subject);
      return undefined;
    }
    this.cache.delete(subject);
    this.cache.set(subject, entry);
    return entry;
  }

  private remember(subject: string, entry: CacheEntry): void {
    if (this.cacheSize <= 0) return;
    // Erasure is final: a read that started before an erase must not bring the key back into the cache.
    if (entry.state === 'active' && this.cache.get(subject)?.state === 'erased') return;
    this.cache.delete(subject);
    this.cache.set(subject, entry);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }

  private wrapAad(subject: string, kid: string): Buffer {
    return Buffer.from(JSON.stringify(['lianfang.subject-key', 1, subject, kid, this.masterKid]), 'utf8');
  }

  /** iv (12) ‖ tag (16) ‖ ciphertext (32). */
  private wrap(subject: string, kid: string, dataKey: Buffer): Buffer {
    const iv = randomBytes(WRAP_IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv, { authTagLength: WRAP_TAG_BYTES });
    cipher.setAAD(this.wrapAad(subject, kid));
    const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  private unwrap(subject: string, kid: string, masterKid: string | null, wrapped: Buffer): Buffer {
    if (masterKid !== this.masterKid) {
      throw new PersonalDataConfigError(
        `The key of subject "${subject}" was wrapped with master key ${String(masterKid)}, but ${MASTER_KEY_ENV} is ${this.masterKid}: wrong ${MASTER_KEY_ENV}?`,
      );
    }
    try {
      const iv = wrapped.subarray(0, WRAP_IV_BYTES);
      const tag = wrapped.subarray(WRAP_IV_BYTES, WRAP_IV_BYTES + WRAP_TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, iv, { authTagLength: WRAP_TAG_BYTES });
      decipher.setAAD(this.wrapAad(subject, kid));
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(wrapped.subarray(WRAP_IV_BYTES + WRAP_TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (cause) {
      throw new PersonalDataConfigError(
        `The wrapped key of subject "${subject}" failed to unwrap (${(cause as Error).message}): tampered row or wrong ${MASTER_KEY_ENV}`,
      );
    }
  }
}
