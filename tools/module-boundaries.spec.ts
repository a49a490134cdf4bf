import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

// The boundaries are the architecture: prove the lint configuration refuses what it must.
const root = path.resolve(__dirname, '..');

// ESLint runs in a child process: its flat config is ESM, which jest's CommonJS runtime cannot load.
async function lint(file: string, code: string): Promise<string[]> {
  const out = spawnSync(
    path.join(root, 'node_modules/.bin/eslint'),
    ['--stdin', '--stdin-filename', file, '--format', 'json'],
    { cwd: root, input: code, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } },
  );
  const [result] = JSON.parse(out.stdout) as Array<{
    messages: Array<{ ruleId: string | null; message: string }>;
  }>;
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  beforeAll(() => {
    execFileSync(path.join(root, 'node_modules/.bin/nx'), ['show', 'projects'], {
      cwd: root,
      env: { ...process.env, NX_DAEMON: 'false' },
      stdio: 'ignore',
    });
  });

  it('refuses a service importing another service', async () => {
    const messages = await lint(
      'apps/compensation-service/src/probe.ts',
      "import { service } from '../../transfer-service/src/service';\nexport const x = service;\n",
    );
    expect(messages).toHaveLength(1);
  });

  it('refuses domain code importing infrastructure', async () => {
    const messages = await lint(
      'libs/domain-kernel/src/probe.ts',
      "import { startService } from '@lianfang/runtime';\nexport const x = startService;\n",
    );
    expect(messages).toEqual([expect.stringContaining('type:domain')]);
  });

  it('refuses production code importing the test helpers', async () => {
    const messages = await lint(
      'apps/transfer-service/src/probe.ts',
      "import { createTestDatabase } from '@lianfang/testing';\nexport const x = createTestDatabase;\n",
    );
    expect(messages).toHaveLength(1);
  });

  it('allows a service to use the shared libraries, and its specs the test helpers', async () => {
    expect(
      await lint(
        'apps/transfer-service/src/probe.ts',
        "import { startService } from '@lianfang/runtime';\nexport const x = startService;\n",
      ),
    ).toEqual([]);
    expect(
      await lint(
        'apps/transfer-service/src/probe.spec.ts',
        "import { createTestDatabase } from '@lianfang/testing';\nexport const x = createTestDatabase;\n",
      ),
    ).toEqual([]);
  });
});
