import { DomainValidationError, type BilingualText } from '@lianfang/domain-kernel';
import { assertSqlIdentifier, type SqlClient, type SqlExecutor } from '@lianfang/eventsourcing';
import { AGENCY_KINDS, type AgencyKind, type Identity } from '../identity';
import { paginate, type Connection } from '../visibility/paginate';
import { defineVisibilityPolicy } from '../visibility/policy';

/**
 * How a record was read: the record itself, its history, its state at a past time, in a list, or one of
 * its documents downloaded.
 */
export const READ_OPERATIONS = ['read', 'history', 'asOf', 'list', 'download'] as const;
export type ReadOperation = (typeof READ_OPERATIONS)[number];

export interface RecordReadInput {
  readonly identity: Identity;
  /** What kind of record, e.g. `transfer`, `manifest`. */
  readonly recordType: string;
  readonly recordId: string;
  /** The agencies whose record it is (its parties): they, and only they, see this read. */
  readonly ownerAgencies: readonly string[];
  readonly operation: ReadOperation;
  readonly at: Date;
}

/** One read of one record, as its owner sees it. */
export interface RecordedRead {
  readonly id: string;
  readonly at: Date;
  readonly reader: {
    readonly subject: string;
    readonly agencyId: string;
    readonly agencyKind: AgencyKind;
    readonly jurisdiction: string;
  };
  readonly recordType: string;
  readonly recordId: string;
  readonly operation: ReadOperation;
}

export interface ReadsOfQuery {
  readonly recordType?: string;
  readonly recordId?: string;
  /** 1 to 100; 20 when absent. */
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface AccessLog {
  /** `schema.access_log`. */
  readonly table: string;
  /** Creates the schema, table and indexes if missing (safe to run from several processes at once). */
  migrate(): Promise<void>;
  /** Records one read; pass `executor` to write inside a transaction of your own. */
  recordRead(read: RecordReadInput, executor?: SqlExecutor): Promise<void>;
  /** Records the reads of a list page in one statement. */
  recordReads(reads: readonly RecordReadInput[], executor?: SqlExecutor): Promise<void>;
  /**
   * Who read the records the caller's agency owns, newest first. Reads of records it does not own
   * are not there at all: an empty page, the same as a record nobody has read.
   */
  readsOf(identity: Identity, query?: ReadsOfQuery): Promise<Connection<RecordedRead>>;
}

export interface AccessLogOptions {
  readonly client: SqlClient;
  /** The service's own schema, e.g. `transfer`. */
  readonly schema: string;
}

// Owners see the reads of their records; nobody sees by jurisdiction or region.
const OWNERS_ONLY = defineVisibilityPolicy({
  party: AGENCY_KINDS,
  jurisdiction: [],
  region: [],
  regionJurisdictions: [],
  columns: { agencies: 'owner_agencies' },
});

const TEXT_LIMIT = 200;

function refuse(field: string, rule: string, message: BilingualText, value?: unknown): never {
  throw new DomainValidationError(
    value === undefined ? { field, rule, message } : { field, rule, message, value },
  );
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > TEXT_LIMIT) {
    refuse(
      field,
      'accessLog.text',
      {
        zh: `${field} 须为 1 到 ${TEXT_LIMIT} 个字符的非空文本`,
        en: `${field} must be non-blank text of at most ${TEXT_LIMIT} characters`,
      },
      value,
    );
  }
  return value;
}

interface ReadRow {
  read_at: string;
  reader_subject: string;
  reader_agency_id: string;
  reader_agency_kind: string;
  reader_jurisdiction: string;
  record_type: string;
  record_id: string;
  operation: ReadOperation;
  owners: string[];
}

function toRow(read: RecordReadInput, index: number | undefined): ReadRow {
  const at = (field: string) => (index === undefined ? field : `reads[${index}].${field}`);
  if (!read || typeof read !== 'object')
    refuse(at('read'), 'accessLog.read', { zh: '缺少读取记录', en: 'a read is missing' });
  const { identity } = read;
  if (!identity || typeof identity !== 'object') {
    refuse(at('identity'), 'accessLog.identity', {
      zh: '缺少读取者身份',
      en: 'the reader’s identity is missing',
    });
  }
  if (!(read.at instanceof Date) || Number.isNaN(read.at.getTime())) {
    refuse(
      at('at'),
      'accessLog.at',
      { zh: '读取时间须为有效时间', en: 'at must be a valid time' },
      String(read.at),
    );
  }
  if (!READ_OPERATIONS.includes(read.operation)) {
    refuse(
      at('operation'),
      'accessLog.operation',
      { zh: '读取方式须为 read、history、asOf 或 list', en: 'operation must be read, history, asOf or list' },
      read.operation,
    );
  }
  if (!Array.isArray(read.ownerAgencies) || read.ownerAgencies.length === 0) {
    refuse(at('ownerAgencies'), 'accessLog.owners', {
      zh: '须列出记录所属的机构（至少一个）',
      en: 'ownerAgencies must name at least one agency the record belongs to',
    });
  }
  return {
    read_at: read.at.toISOString(),
    reader_subject: text(identity.subject, at('identity.subject')),
    reader_agency_id: text(identity.agencyId, at('identity.agencyId')),
    reader_agency_kind: text(identity.agencyKind, at('identity.agencyKind')),
    reader_jurisdiction: text(identity.jurisdiction, at('identity.jurisdiction')),
    record_type: text(read.recordType, at('recordType')),
    record_id: text(read.recordId, at('recordId')),
    operation: read.operation,
    owners: [...new Set(read.ownerAgencies.map((a, i) => text(a, at(`ownerAgencies[${i}]`))))],
  };
}

export function createAccessLog(options: AccessLogOptions): AccessLog {
  const schema = assertSqlIdentifier(options.schema, 'schema name');
  const table = `${schema}.access_log`;
  const { client } = options;

  async function insert(rows: ReadRow[], executor: SqlExecutor): Promise<void> {
    if (rows.length === 0) return;
    // One JSON parameter, whatever the number of reads (a list page writes one statement).
    await executor.query(
      `INSERT INTO ${table} (read_at, reader_subject, reader_agency_id, reader_agency_kind, reader_jurisdiction,
                             record_type, record_id, operation, owner_agencies)
       SELECT (e.r->>'read_at')::timestamptz, e.r->>'reader_subject', e.r->>'reader_agency_id',
              e.r->>'reader_agency_kind', e.r->>'reader_jurisdiction', e.r->>'record_type', e.r->>'record_id',
              e.r->>'operation', ARRAY(SELECT jsonb_array_elements_text(e.r->'owners'))
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(r, i)
       ORDER BY e.i`,
      [JSON.stringify(rows)],
    );
  }

  const operations = READ_OPERATIONS.map((o) => `'${o}'`).join(', ');
  return {
    table,
    async migrate() {
      await client.transaction(async (tx) => {
        // Two processes starting together would race on CREATE … IF NOT EXISTS.
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`lianfang.access_log.${schema}`]);
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await tx.query(`CREATE TABLE IF NOT EXISTS ${table} (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          read_at timestamptz NOT NULL,
          reader_subject text NOT NULL,
          reader_agency_id text NOT NULL,
          reader_agency_kind text NOT NULL,
          reader_jurisdiction text NOT NULL,
          record_type text NOT NULL,
          record_id text NOT NULL,
          operation text NOT NULL CONSTRAINT access_log_operation_check CHECK (operation IN (${operations})),
          owner_agencies text[] NOT NULL CHECK (cardinality(owner_agencies) > 0)
        )`);
        // A table made before an operation was added refuses it: widen its check (once; a no-op after).
        await tx.query(`DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '${table}'::regclass
                          AND conname = 'access_log_operation_check'
                          AND pg_get_constraintdef(oid) LIKE '%''${READ_OPERATIONS.at(-1)}''%') THEN
            ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS access_log_operation_check;
            ALTER TABLE ${table} ADD CONSTRAINT access_log_operation_check CHECK (operation IN (${operations}));
          END IF;
        END $$`);
        // The owner's question: "who read our records" (GIN on the owners), newest first per record.
        await tx.query(`CREATE INDEX IF NOT EXISTS access_log_owners ON ${table} USING gin (owner_agencies)`);
        await tx.query(
          `CREATE INDEX IF NOT EXISTS access_log_record ON ${table} (record_id, read_at DESC, id DESC)`,
        );
        await tx.query(`CREATE INDEX IF NOT EXISTS access_log_time ON ${table} (read_at DESC, id DESC)`);
      });
    },
    async recordRead(read, executor = client) {
      await insert([toRow(read, undefined)], executor);
    },
    async recordReads(reads, executor = client) {
      if (!Array.isArray(reads)) {
        refuse('reads', 'accessLog.reads', { zh: '须为读取记录列表', en: 'reads must be a list of reads' });
      }
      await insert(
        reads.map((r, i) => toRow(r, i)),
        executor,
      );
    },
    async readsOf(identity, query = {}) {
      const conditions: string[] = [];
      const params: unknown[] = [];
      if (query.recordType !== undefined) {
        params.push(text(query.recordType, 'recordType'));
        conditions.push(`record_type = $${params.length}`);
      }
      if (query.recordId !== undefined) {
        params.push(text(query.recordId, 'recordId'));
        conditions.push(`record_id = $${params.length}`);
      }
      return paginate<RecordedRead, Record<string, unknown>>({
        client,
        from: table,
        select: `id::text AS id, read_at, reader_subject, reader_agency_id, reader_agency_kind,
                 reader_jurisdiction, record_type, record_id, operation`,
        where: conditions.join(' AND '),
        params,
        orderBy: { column: 'read_at', direction: 'DESC' },
        idColumn: 'id',
        first: query.first,
        after: query.after,
        identity,
        policy: OWNERS_ONLY,
        map: (row) => ({
          id: row['id'] as string,
          // PGlite's Date may come from another realm (see the PGlite client): rebuild it from its value.
          at: new Date(row['read_at'] as Date | string),
          reader: {
            subject: row['reader_subject'] as string,
            agencyId: row['reader_agency_id'] as string,
            agencyKind: row['reader_agency_kind'] as AgencyKind,
            jurisdiction: row['reader_jurisdiction'] as string,
          },
          recordType: row['record_type'] as string,
          recordId: row['record_id'] as string,
          operation: row['operation'] as ReadOperation,
        }),
      });
    },
  };
}
