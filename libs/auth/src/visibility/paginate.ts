import { sqlErrorCode, toBigInt, type SqlExecutor } from '@lianfang/eventsourcing';
import type { Identity } from '../identity';
import { visibilityFilter } from './filter';
import { PageRequestError } from './page-request-error';
import type { VisibilityPolicy } from './policy';

/** Rows every authenticated party may see (see `PaginateOptions.policy`). */
export const REFERENCE_DATA = 'reference-data' as const;

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export type SortDirection = 'ASC' | 'DESC';

export interface Edge<N> {
  readonly cursor: string;
  readonly node: N;
}

/** A Relay-style connection: the page, where it ends, and how many visible records match in all. */
export interface Connection<N> {
  readonly edges: Edge<N>[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
  readonly totalCount: number;
}

export interface PaginateOptions<N, Row extends Record<string, unknown> = Record<string, unknown>> {
  readonly client: SqlExecutor;
  /** The table or view (with joins if need be): trusted SQL written by the service, never user input. */
  readonly from: string;
  /** Select list; `*` by default. */
  readonly select?: string;
  /** The list's own condition (trusted SQL), with `$1…$n` for `params`. */
  readonly where?: string;
  readonly params?: readonly unknown[];
  /** The sort key: NOT NULL. Ties are broken by `idColumn` in the same direction. */
  readonly orderBy: { readonly column: string; readonly direction: SortDirection };
  /** Unique per row. */
  readonly idColumn: string;
  /** Page size, 1 to 100; 20 when absent. */
  readonly first?: number | null;
  /** The `endCursor` of the previous page. */
  readonly after?: string | null;
  readonly identity: Identity;
  /**
   * Who sees which rows. `REFERENCE_DATA`: every authenticated party sees every row (the agency directory,
   * published licences); the identity is still required.
   */
  readonly policy: VisibilityPolicy | typeof REFERENCE_DATA;
  /** Turns a row into the node; the row as it comes otherwise. */
  readonly map?: (row: Row) => N;
}

const COLUMN = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
const KEY = '__page_key';
const ID = '__page_id';

export interface CursorBody {
  /** Sort column and direction: a cursor only continues the list it came from. */
  readonly c: string;
  readonly d: SortDirection;
  /** The sort key and the id as PostgreSQL prints them (`::text`), so they parse back exactly. */
  readonly k: string;
  readonly i: string;
}

export function encodeCursor(body: CursorBody): string {
  return Buffer.from(JSON.stringify([body.c, body.d, body.k, body.i]), 'utf8').toString('base64url');
}

const badCursor = (value: unknown) =>
  new PageRequestError(
    'after',
    'page.after.invalid',
    {
      zh: '分页游标 after 无效：请使用上一页返回的 endCursor',
      en: 'the cursor `after` is not valid: pass the endCursor of the previous page of this list',
    },
    value,
  );

/** Reads a cursor of this list; anything else is refused as `after`. */
export function decodeCursor(
  cursor: unknown,
  orderBy: { column: string; direction: SortDirection },
): CursorBody {
  if (
    typeof cursor !== 'string' ||
    cursor.length === 0 ||
    cursor.length > 2048 ||
    !/^[A-Za-z0-9_-]+$/.test(cursor)
  ) {
    throw badCursor(cursor);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor(cursor);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    !parsed.every((part) => typeof part === 'string') ||
    parsed[0] !== orderBy.column ||
    parsed[1] !== orderBy.direction
  ) {
    throw badCursor(cursor);
  }
  const body: CursorBody = { c: parsed[0], d: parsed[1], k: parsed[2], i: parsed[3] };
  // One spelling per position: a re-encoded variant of a cursor is not another cursor.
  if (encodeCursor(body) !== cursor) throw badCursor(cursor);
  return body;
}

/** Checks `first`: an integer from 1 to 100 (20 when absent). */
export function pageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new PageRequestError(
      'first',
      'page.first.range',
      {
        zh: `每页条数 first 须为 1 到 ${MAX_PAGE_SIZE} 之间的整数`,
        en: `first must be an integer from 1 to ${MAX_PAGE_SIZE}`,
      },
      first,
    );
  }
  return first;
}

/**
 * One page of a read model, keyset-paginated, with the visibility filter in the WHERE clause before
 * ORDER BY, LIMIT and count: a hidden row takes no place on a page, in `totalCount`, in `hasNextPage`
 * or in a cursor. A cursor holds only a position (sort key and id): one crafted from a hidden row's key
 * gives the visible rows after that position, the same as any other position would.
 */
export async function paginate<
  N = Record<string, unknown>,
  Row extends Record<string, unknown> = Record<string, unknown>,
>(options: PaginateOptions<N, Row>): Promise<Connection<N>> {
  const { client, from, orderBy, idColumn, identity, policy } = options;
  if (!COLUMN.test(orderBy.column))
    throw new Error(`paginate: orderBy.column "${orderBy.column}" is not a column name`);
  if (!COLUMN.test(idColumn)) throw new Error(`paginate: idColumn "${idColumn}" is not a column name`);
  if (orderBy.direction !== 'ASC' && orderBy.direction !== 'DESC') {
    throw new Error(`paginate: orderBy.direction must be ASC or DESC, got "${String(orderBy.direction)}"`);
  }
  const first = pageSize(options.first);
  const cursor =
    options.after === undefined || options.after === null ? undefined : decodeCursor(options.after, orderBy);

  const params: unknown[] = [...(options.params ?? [])];
  const conditions: string[] = [];
  if (options.where?.trim()) conditions.push(`(${options.where})`);
  if (policy !== REFERENCE_DATA) {
    const visibility = visibilityFilter(identity, policy, params.length + 1);
    conditions.push(visibility.sql);
    params.push(...visibility.params);
  }
  const filtered = conditions.length > 0 ? conditions.join(' AND ') : 'TRUE';
  const countParams = [...params];

  let pageCondition = filtered;
  if (cursor) {
    const after = orderBy.direction === 'DESC' ? '<' : '>';
    pageCondition += ` AND (${orderBy.column}, ${idColumn}) ${after} ($${params.length + 1}, $${params.length + 2})`;
    params.push(cursor.k, cursor.i);
  }
  const select = options.select?.trim() || '*';
  const pageSql =
    `SELECT ${select}, (${orderBy.column})::text AS ${KEY}, (${idColumn})::text AS ${ID} FROM ${from}` +
    ` WHERE ${pageCondition}` +
    ` ORDER BY ${orderBy.column} ${orderBy.direction}, ${idColumn} ${orderBy.direction} LIMIT ${first + 1}`;

  let rows: Record<string, unknown>[];
  try {
    rows = (await client.query<Record<string, unknown>>(pageSql, params)).rows;
  } catch (e) {
    // A well-formed cursor whose key does not parse as the sort column's type (22xxx: data exception).
    if (cursor && sqlErrorCode(e)?.startsWith('22')) throw badCursor(options.after);
    throw e;
  }
  const counted = await client.query<{ n: unknown }>(
    `SELECT count(*) AS n FROM ${from} WHERE ${filtered}`,
    countParams,
  );

  const hasNextPage = rows.length > first;
  const edges = rows.slice(0, first).map((row) => {
    const { [KEY]: key, [ID]: id, ...rest } = row;
    if (typeof key !== 'string' || typeof id !== 'string') {
      throw new Error(`paginate: ${orderBy.column} and ${idColumn} must not be NULL`);
    }
    const node = options.map ? options.map(rest as Row) : (rest as unknown as N);
    return { cursor: encodeCursor({ c: orderBy.column, d: orderBy.direction, k: key, i: id }), node };
  });
  return {
    edges,
    pageInfo: { hasNextPage, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null },
    totalCount: Number(toBigInt(counted.rows[0]?.n ?? 0)),
  };
}
