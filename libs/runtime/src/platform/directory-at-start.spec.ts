import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectoryError } from '@lianfang/auth';
import { PlatformModule } from '../platform.module';
import { serviceConfigSchema } from '../service-config';

const schema = serviceConfigSchema({
  name: 'compensation-service',
  defaultPort: 4002,
  schema: 'compensation',
});

describe('the agency directory is validated when a service starts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lf-directory-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('stops a service whose directory is broken, naming each problem by path and rule', async () => {
    const file = path.join(dir, 'broken.json');
    await writeFile(
      file,
      JSON.stringify({
        regions: [],
        jurisdictions: [],
        agencies: [
          {
            id: 'x',
            kind: 'provincial-bureau',
            name: { zh: '某', en: 'X' },
            jurisdiction: '51',
            level: 'provincial',
            roles: ['viewer'],
          },
        ],
      }),
    );
    const config = schema.load({ DIRECTORY_FILE: file }, 'compensation-service');
    let error: unknown;
    try {
      PlatformModule.forService('compensation-service', config, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DirectoryError);
    expect((error as Error).message).toMatch(/agencies\[0\]\.jurisdiction/);
  });

  it('accepts the demo region', () => {
    const config = schema.load({}, 'compensation-service');
    expect(() => PlatformModule.forService('compensation-service', config, {})).not.toThrow();
  });
});
