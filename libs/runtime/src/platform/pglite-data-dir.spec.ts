import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirInUseError, preparePgliteDataDir } from './pglite-data-dir';

// The lock only: a PG_VERSION file stands for a cluster created earlier, so no PGlite is opened here
// (creating the template is covered by the PlatformModule spec).
describe('the PGlite data directory of a service', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lf-datadir-'));
    await mkdir(path.join(dataDir, 'svc', 'pgdata'), { recursive: true });
    await writeFile(path.join(dataDir, 'svc', 'pgdata', 'PG_VERSION'), '17\n');
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const lockFile = () => path.join(dataDir, 'svc', 'lock');

  it('takes the lock with this pid, reports existing data, and frees the lock on release', async () => {
    const dir = await preparePgliteDataDir(dataDir, 'svc');
    expect(dir).toMatchObject({ pgdata: path.join(dataDir, 'svc', 'pgdata'), existed: true });
    expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
    await expect(preparePgliteDataDir(dataDir, 'svc')).rejects.toThrow(
      /svc is in use by process \d+ \/ 数据目录正被进程 \d+ 使用: this process has it open already/,
    );
    await dir.release();
    await expect(readFile(lockFile())).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await preparePgliteDataDir(dataDir, 'svc');
    await again.release();
  });

  it('refuses a directory another live process holds, naming it', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await writeFile(lockFile(), `${other.pid}\n`);
      const attempt = preparePgliteDataDir(dataDir, 'svc');
      await expect(attempt).rejects.toBeInstanceOf(DataDirInUseError);
      await expect(attempt).rejects.toMatchObject({ pid: other.pid });
      await expect(attempt).rejects.toThrow(
        `stop that process first (kill ${other.pid}), or use another DATA_DIR`,
      );
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a process that is gone (a crash, kill -9)', async () => {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => gone.on('exit', resolve));
    await writeFile(lockFile(), `${gone.pid}\n`);
    const dir = await preparePgliteDataDir(dataDir, 'svc');
    expect(await readFile(lockFile(), 'utf8')).toBe(`${process.pid}\n`);
    await dir.release();
  });
});
