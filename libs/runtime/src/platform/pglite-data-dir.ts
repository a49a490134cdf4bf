import { randomBytes } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openPglite } from '@lianfang/eventsourcing';

/**
 * Where a service keeps its embedded database: `${DATA_DIR}/<service>/pgdata` (PGlite's cluster) and
 * `${DATA_DIR}/<service>/lock` (the pid of the process that has it open).
 *
 * - The lock: two processes on one PGlite directory would corrupt it (PGlite takes no lock of its own).
 *   A lock whose process is gone (a crash, kill -9) is stale and taken over.
 * - The template: creating a PGlite cluster (initdb) takes seconds of CPU (about 8 s measured on this
 *   machine, against about 1 s to open an existing one). The first service to need one creates
 *   `${DATA_DIR}/.pglite-template` once; every service then starts from a copy of it, so `npm start`
 *   pays initdb once instead of once per service.
 */
export interface PgliteDataDir {
  /** The PGlite data directory to open. */
  readonly pgdata: string;
  /** True when the cluster existed before (data from an earlier run). */
  readonly existed: boolean;
  /** Frees the lock (after the database is closed). Idempotent. */
  release(): Promise<void>;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `${dir} is in use by process ${pid} / 数据目录正被进程 ${pid} 使用: ` +
        (pid === process.pid
          ? 'this process has it open already (one PGlite per service and directory)'
          : `stop that process first (kill ${pid}), or use another DATA_DIR`),
    );
    this.name = 'DataDirInUseError';
  }
}

const TEMPLATE = '.pglite-template';
/** Locks this process holds (a pid check cannot tell a second open in the same process). */
const heldHere = new Set<string>();

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function takeLock(serviceDir: string): Promise<() => Promise<void>> {
  const file = path.join(serviceDir, 'lock');
  if (heldHere.has(file)) throw new DataDirInUseError(serviceDir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(file);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        heldHere.delete(file);
        await unlink(file).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new DataDirInUseError(serviceDir, pid);
    }
    // Stale: its process is gone (or it is unreadable, half-written by a crash).
    await unlink(file).catch(() => undefined);
  }
  throw new Error(`Could not take the lock ${file}: it keeps coming back`);
}

/** Creates `${dataDir}/.pglite-template` unless it exists; safe when several processes race. */
async function ensureTemplate(dataDir: string): Promise<string> {
  const template = path.join(dataDir, TEMPLATE);
  if (await exists(path.join(template, 'PG_VERSION'))) return template;
  const building = path.join(dataDir, `${TEMPLATE}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    const pglite = await openPglite({ dataDir: building });
    await pglite.close();
    await rename(building, template).catch(async (e: NodeJS.ErrnoException) => {
      // Another process finished first: use theirs.
      if (!(await exists(path.join(template, 'PG_VERSION')))) throw e;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return template;
}

/**
 * Prepares (and locks) the PGlite directory of one service under `dataDir`, creating what is missing.
 * The caller opens `pgdata` and calls `release()` once the database is closed.
 */
export async function preparePgliteDataDir(dataDir: string, service: string): Promise<PgliteDataDir> {
  const serviceDir = path.resolve(dataDir, service);
  await mkdir(serviceDir, { recursive: true });
  const release = await takeLock(serviceDir);
  try {
    const pgdata = path.join(serviceDir, 'pgdata');
    const existed = await exists(path.join(pgdata, 'PG_VERSION'));
    if (!existed) {
      const template = await ensureTemplate(path.resolve(dataDir));
      // Copy beside, then rename: a crash mid-copy never leaves a half cluster that looks complete.
      const copying = `${pgdata}.tmp-${process.pid}`;
      await rm(copying, { recursive: true, force: true });
      await rm(pgdata, { recursive: true, force: true });
      await cp(template, copying, { recursive: true });
      await rename(copying, pgdata);
    }
    return { pgdata, existed, release };
  } catch (e) {
    await release();
    throw e;
  }
}
