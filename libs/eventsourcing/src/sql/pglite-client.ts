import { AsyncLocalStorage } from 'node:async_hooks';
import * as nodeModule from 'node:module';
import type { PGlite, PGliteOptions, Results, Transaction } from '@electric-sql/pglite';
import {
  assertSqlIdentifier,
  type SqlClient,
  type SqlExecutor,
  type SqlQueryOptions,
  type SqlResult,
} from './sql-client';

export interface PgliteClientOptions {
  /** An existing instance: used as is and not closed by `close()`. */
  readonly pglite?: PGlite;
  /** A file-backed database in this directory (created on first use), e.g. `./data/transfer`. */
  readonly dataDir?: string;
  /** In memory (the default without `dataDir`): gone when closed. */
  readonly memory?: boolean;
  /** Skip waiting for the filesystem flush after each commit (faster; a crash can lose the last commits). */
  readonly relaxedDurability?: boolean;
}

export interface PgliteSqlClient extends SqlClient {
  readonly dialect: 'pglite';
  readonly pglite: PGlite;
}

const INT8_OID = 20;

/**
 * PGlite's Node build loads Node built-ins with dynamic `import()` (node:module, fs/promises) while it
 * starts. Jest runs CommonJS code in a VM context that refuses dynamic imports without
 * --experimental-vm-modules (and its `createRequire` is jest's own), so a plain `import` of PGlite works
 * under `node` and fails under jest. Loading it through Node's own loader (`Module._load`, stable since
 * Node 0.x though undocumented) keeps PGlite out of that VM in tests and changes nothing in production.
 * Under jest, PGlite's Dates and errors then come from the outer realm: nothing here relies on
 * `instanceof` for them.
 */
type PgliteModule = { PGlite: typeof PGlite };
let pgliteModule: PgliteModule | undefined;
function loadPglite(): PgliteModule {
  if (!pgliteModule) {
    const loader = nodeModule as unknown as {
      _load?: (request: string, parent: object, isMain: boolean) => unknown;
      _nodeModulePaths?: (from: string) => string[];
    };
    const id = '@electric-sql/pglite';
    pgliteModule = (
      typeof loader._load === 'function' && typeof loader._nodeModulePaths === 'function'
        ? loader._load(
            id,
            {
              id: __filename,
              filename: __filename,
              path: __dirname,
              paths: loader._nodeModulePaths(__dirname),
            },
            false,
          )
        : nodeModule.createRequire(__filename)(id)
    ) as PgliteModule;
  }
  return pgliteModule;
}

/** Opens a PGlite instance the way the client does (int8 as bigint), e.g. to share it between clients. */
export async function openPglite(
  options: Pick<PgliteClientOptions, 'dataDir' | 'relaxedDurability'> = {},
): Promise<PGlite> {
  const pgliteOptions: PGliteOptions = {
    dataDir: options.dataDir,
    relaxedDurability: options.relaxedDurability,
    parsers: { [INT8_OID]: (value: string) => BigInt(value) },
  };
  return loadPglite().PGlite.create(pgliteOptions);
}

function toResult<R>(r: Results<R> | undefined): SqlResult<R> {
  if (!r) return { rows: [], rowCount: 0 };
  return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length };
}

type Runner = Pick<Transaction, 'query' | 'exec'>;

/**
 * Like `pg`: without parameters, the simple query protocol (several statements allowed, e.g. a
 * migration; the last statement's rows are returned); with parameters, one prepared statement.
 */
async function run<R>(
  on: Runner,
  text: string,
  params?: readonly unknown[],
  options?: SqlQueryOptions,
): Promise<SqlResult<R>> {
  const rowMode = options?.rowMode;
  if (!params || params.length === 0) {
    const results = await on.exec(text, rowMode ? { rowMode } : undefined);
    return toResult(results[results.length - 1] as Results<R> | undefined);
  }
  return toResult<R>(await on.query<R>(text, params as unknown[], rowMode ? { rowMode } : undefined));
}

/**
 * A SqlClient over PGlite (PostgreSQL in WebAssembly, in this process).
 *
 * PGlite is one connection. Its own mutexes already keep a query issued outside a transaction from
 * running inside one (it waits until the transaction ends), and run transactions one at a time. What
 * they cannot do is tell a query that will wait from one that would wait forever: a query on the
 * client awaited inside its own `transaction` callback. That throws here instead of hanging.
 *
 * int8 comes back as bigint on an instance we create (exact, never a JS number); an instance passed
 * in keeps its own parsers (PGlite's default is exact too: number when safe, else bigint): use `toBigInt`.
 */
export async function createPgliteClient(options: PgliteClientOptions = {}): Promise<PgliteSqlClient> {
  if (options.pglite && (options.dataDir || options.memory)) {
    throw new Error('createPgliteClient: give either an instance or dataDir/memory, not both');
  }
  if (options.dataDir && options.memory) throw new Error('createPgliteClient: dataDir or memory, not both');
  const owns = !options.pglite;
  const pglite =
    options.pglite ??
    (await openPglite({ dataDir: options.dataDir, relaxedDurability: options.relaxedDurability }));
  return wrapPglite(pglite, owns);
}

/**
 * PGlite answers in the same thread: a loop of awaited queries is a chain of microtasks that never lets
 * timers or I/O run (an HTTP request, a Kafka heartbeat waited seconds while writers appended). One
 * macrotask turn before each top-level query or transaction lets the rest of the process breathe.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function wrapPglite(pglite: PGlite, owns: boolean): PgliteSqlClient {
  const insideTransaction = new AsyncLocalStorage<true>();
  let closed = false;
  const checkOpen = () => {
    if (closed) throw new Error('SqlClient is closed');
  };

  return {
    dialect: 'pglite',
    pglite,
    async query<R>(text: string, params?: readonly unknown[], options?: SqlQueryOptions) {
      checkOpen();
      if (insideTransaction.getStore()) {
        throw new Error(
          'PGlite has one connection: a query on the client inside its own transaction would wait forever. Use the transaction executor.',
        );
      }
      await yieldToEventLoop();
      return run<R>(pglite, text, params, options);
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      checkOpen();
      await yieldToEventLoop();
      return pglite.transaction(async (t: Transaction) => {
        let done = false;
        const tx: SqlExecutor = {
          async query<R>(text: string, params?: readonly unknown[], options?: SqlQueryOptions) {
            if (done) throw new Error('The transaction is over: this executor can no longer be used');
            return run<R>(t, text, params, options);
          },
        };
        try {
          return await insideTransaction.run(true, () => fn(tx));
        } finally {
          done = true;
        }
      });
    },
    async listen(channel: string, onNotify: (payload: string) => void) {
      checkOpen();
      assertSqlIdentifier(channel, 'channel name');
      // PGlite calls listeners while it parses the results of whichever query carried the
      // notification, possibly inside someone's transaction: run them outside that context.
      const callback = (payload: string) => insideTransaction.exit(() => onNotify(payload));
      const unlisten = await pglite.listen(channel, callback);
      let removed = false;
      return async () => {
        if (removed || pglite.closed) return;
        removed = true;
        await unlisten();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owns && !pglite.closed) await pglite.close();
    },
  };
}
