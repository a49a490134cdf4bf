import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreditCode } from '@lianfang/domain-kernel';
import { AuthenticationError } from '../errors';
import { DirectoryError, UnknownAgencyError } from './directory-error';
import { loadDirectory, parseDirectory } from './directory';

const DEMO = path.resolve(__dirname, '../../../../config/directory/demo-region.json');

describe('the demo directory (Sichuan–Chongqing)', () => {
  const directory = loadDirectory(DEMO);

  it('lists the parties of the region with the kinds the platform needs', () => {
    const ids = (kind: Parameters<typeof directory.agenciesOfKind>[0]) =>
      directory.agenciesOfKind(kind).map((a) => a.id);
    expect(ids('provincial-bureau')).toEqual(['sc-eeb', 'cq-eeb']);
    expect(ids('municipal-bureau')).toEqual(expect.arrayContaining(['cd-eeb']));
    expect(ids('finance-office')).toHaveLength(2);
    expect(ids('transport-department')).toHaveLength(2);
    expect(ids('public-security')).toHaveLength(2);
    expect(ids('enforcement-team')).toHaveLength(1);
    expect(ids('incident-command')).toHaveLength(1);
    expect(ids('regional-secretariat')).toEqual(['chengyu-secretariat']);
    expect(ids('generator')).toHaveLength(2);
    expect(ids('carrier')).toHaveLength(2);
    expect(ids('receiver')).toHaveLength(3);
    expect(directory.regions.map((r) => r.id)).toEqual(['chengyu']);
    expect(directory.region('chengyu')?.jurisdictions).toEqual(['510000', '500000']);
  });

  it('gives every enterprise a valid credit code and Chongqing provincial level', () => {
    for (const a of directory.agencies.filter((a) => a.level === 'enterprise'))
      expect(CreditCode.parse(a.creditCode ?? '').ok).toBe(true);
    expect(directory.agency('cq-eeb')).toMatchObject({ level: 'provincial', jurisdiction: '500000' });
    expect(directory.agency('cd-eeb')).toMatchObject({ level: 'municipal', jurisdiction: '510100' });
    expect(directory.jurisdiction('510100')).toEqual({
      code: '510100',
      name: { zh: '成都市', en: 'Chengdu' },
      level: 'municipal',
      parent: '510000',
    });
  });

  it('finds agencies within a jurisdiction and the agencies responsible for a place', () => {
    expect(directory.agenciesOfKind('receiver', '510000').map((a) => a.id)).toEqual([
      'dy-lvyuan-env',
      'cd-rongqing-disposal',
    ]);
    expect(directory.agenciesOfKind('receiver', '500000').map((a) => a.id)).toEqual(['cq-yuhuan-disposal']);
    expect(directory.agenciesOfKind('receiver', 'nonsense')).toEqual([]);
    expect(directory.agenciesResponsibleFor('provincial-bureau', '510100').map((a) => a.id)).toEqual([
      'sc-eeb',
    ]);
    expect(directory.agenciesResponsibleFor('municipal-bureau', '510104').map((a) => a.id)).toEqual([
      'cd-eeb',
    ]);
    expect(directory.agenciesResponsibleFor('municipal-bureau', '500000')).toEqual([]);
  });

  it('refuses an unknown agency id with an AGENCY_UNKNOWN authentication error', () => {
    expect(directory.requireAgency('sc-eeb').kind).toBe('provincial-bureau');
    const error = (() => {
      try {
        directory.requireAgency('xz-eeb');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnknownAgencyError);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ code: 'AGENCY_UNKNOWN', field: 'agency_id', agencyId: 'xz-eeb' });
    expect(directory.agency('xz-eeb')).toBeUndefined();
  });

  it('cannot be changed after loading', () => {
    expect(Object.isFrozen(directory.agencies)).toBe(true);
    expect(Object.isFrozen(directory.agency('sc-eeb')?.roles)).toBe(true);
  });
});

/** A small valid directory; each case below breaks one thing. */
function minimal() {
  return {
    jurisdictions: [
      { code: '510000', name: { zh: '四川省', en: 'Sichuan' }, level: 'provincial' },
      { code: '510100', name: { zh: '成都市', en: 'Chengdu' }, level: 'municipal', parent: '510000' },
      { code: '500000', name: { zh: '重庆市', en: 'Chongqing' }, level: 'provincial' },
    ],
    regions: [
      { id: 'chengyu', name: { zh: '川渝', en: 'Sichuan–Chongqing' }, jurisdictions: ['510000', '500000'] },
    ],
    agencies: [
      {
        id: 'sc-eeb',
        kind: 'provincial-bureau',
        name: { zh: '四川省生态环境厅', en: 'Sichuan DEE' },
        jurisdiction: '510000',
        level: 'provincial',
        roles: ['viewer', 'approver'],
      },
      {
        id: 'cd-eeb',
        kind: 'municipal-bureau',
        name: { zh: '成都市生态环境局', en: 'Chengdu EEB' },
        jurisdiction: '510100',
        level: 'municipal',
        roles: ['viewer'],
      },
      {
        id: 'cd-gen',
        kind: 'generator',
        name: { zh: '成都某公司', en: 'Chengdu Co.' },
        jurisdiction: '510100',
        level: 'enterprise',
        roles: ['viewer', 'clerk'],
        creditCode: CreditCode.withCheckCharacter('91510100MA61RK3T2').value,
      },
      {
        id: 'secretariat',
        kind: 'regional-secretariat',
        name: { zh: '川渝区域协作办公室', en: 'Regional office' },
        jurisdiction: '510000',
        level: 'regional',
        roles: ['viewer', 'admin'],
        region: 'chengyu',
      },
    ],
  };
}
type Minimal = ReturnType<typeof minimal> & Record<string, unknown>;

function problemsOf(json: unknown) {
  try {
    parseDirectory(json, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(DirectoryError);
    return (e as DirectoryError).problems.map((p) => `${p.path} ${p.rule}`);
  }
  throw new Error('expected a DirectoryError');
}

describe('parseDirectory', () => {
  it('accepts the minimal directory', () => {
    const d = parseDirectory(minimal(), 'test.json');
    expect(d.source).toBe('test.json');
    expect(d.agencies.map((a) => a.id)).toEqual(['sc-eeb', 'cd-eeb', 'cd-gen', 'secretariat']);
  });

  it.each<[string, (d: Minimal) => void, string]>([
    ['a non-object entry', (d) => ((d.agencies as unknown[])[0] = 'sc-eeb'), 'agencies[0] agency.type'],
    ['a duplicate agency id', (d) => (d.agencies[1].id = 'sc-eeb'), 'agencies[1].id id.duplicate'],
    ['an id with capitals', (d) => (d.agencies[0].id = 'SC_EEB'), 'agencies[0].id id.format'],
    ['an unknown kind', (d) => (d.agencies[0].kind = 'ministry'), 'agencies[0].kind kind.value'],
    ['an unknown level', (d) => (d.agencies[0].level = 'county'), 'agencies[0].level level.value'],
    [
      'a malformed jurisdiction',
      (d) => (d.agencies[0].jurisdiction = '51000'),
      'agencies[0].jurisdiction jurisdiction.format',
    ],
    [
      'a jurisdiction not listed',
      (d) => (d.agencies[1].jurisdiction = '510300'),
      'agencies[1].jurisdiction jurisdiction.unknown',
    ],
    [
      'a provincial bureau on a city code',
      (d) => (d.agencies[0].jurisdiction = '510100'),
      'agencies[0].jurisdiction jurisdiction.provincial',
    ],
    [
      'a municipal bureau on a provincial code',
      (d) => (d.agencies[1].jurisdiction = '510000'),
      'agencies[1].jurisdiction jurisdiction.municipal',
    ],
    [
      'a provincial bureau at municipal level',
      (d) => (d.agencies[0].level = 'municipal'),
      'agencies[0].level level.kind',
    ],
    [
      'an enterprise at provincial level',
      (d) => (d.agencies[2].level = 'provincial'),
      'agencies[2].level level.kind',
    ],
    [
      'an enterprise without credit code',
      (d) => delete (d.agencies[2] as { creditCode?: string }).creditCode,
      'agencies[2].creditCode creditCode.required',
    ],
    [
      'a mistyped credit code',
      (d) => (d.agencies[2].creditCode = '91510100MA61RK3T27'),
      'agencies[2].creditCode creditCode.checkCharacter',
    ],
    [
      'a credit code used twice',
      (d) => Object.assign(d.agencies[1], { creditCode: d.agencies[2].creditCode }),
      'agencies[2].creditCode creditCode.duplicate',
    ],
    ['empty roles', (d) => (d.agencies[0].roles = []), 'agencies[0].roles roles.nonEmpty'],
    [
      'an unknown role',
      (d) => (d.agencies[0].roles = ['viewer', 'director']),
      'agencies[0].roles[1] role.value',
    ],
    [
      'a role twice',
      (d) => (d.agencies[0].roles = ['viewer', 'viewer']),
      'agencies[0].roles roles.duplicate',
    ],
    [
      'a name without English',
      (d) => (d.agencies[0].name = { zh: '四川省生态环境厅', en: '' }),
      'agencies[0].name name.bilingual',
    ],
    [
      'a misspelt property',
      (d) => Object.assign(d.agencies[0], { jurisdicton: '510000' }),
      'agencies[0].jurisdicton property.unknown',
    ],
    ['an unknown region', (d) => (d.agencies[3].region = 'jingjinji'), 'agencies[3].region region.unknown'],
    [
      'a regional body without region',
      (d) => delete (d.agencies[3] as { region?: string }).region,
      'agencies[3].region region.required',
    ],
    [
      'a region member not in jurisdictions',
      (d) => (d.regions[0].jurisdictions = ['510000', '530000']),
      'regions[0].jurisdictions[1] jurisdiction.unknown',
    ],
    [
      'a region without members',
      (d) => (d.regions[0].jurisdictions = []),
      'regions[0].jurisdictions jurisdictions.nonEmpty',
    ],
    ['a duplicate region id', (d) => d.regions.push({ ...d.regions[0] }), 'regions[1].id id.duplicate'],
    [
      'a jurisdiction listed twice',
      (d) => d.jurisdictions.push({ ...d.jurisdictions[0] }),
      'jurisdictions[3].code code.duplicate',
    ],
    [
      'a city whose parent is another province',
      (d) => (d.jurisdictions[1].parent = '500000'),
      'jurisdictions[1].parent parent.province',
    ],
    [
      'a province with a parent',
      (d) => Object.assign(d.jurisdictions[0], { parent: '500000' }),
      'jurisdictions[0].parent parent.provincial',
    ],
    [
      'a city whose province is not listed',
      (d) =>
        d.jurisdictions.splice(0, 1, {
          code: '530000',
          name: { zh: '云南省', en: 'Yunnan' },
          level: 'provincial',
        }),
      'jurisdictions[1].parent parent.unknown',
    ],
    [
      'a level that contradicts the code',
      (d) => (d.jurisdictions[1].level = 'provincial'),
      'jurisdictions[1].level level.code',
    ],
    ['a county', (d) => (d.jurisdictions[1].level = 'county'), 'jurisdictions[1].level level.value'],
    [
      'a name that contradicts the code',
      (d) => (d.jurisdictions[1].name = { zh: '重庆市', en: 'Chongqing' }),
      'jurisdictions[1].name name.code',
    ],
    [
      'agencies that are not a list',
      (d) => ((d as Record<string, unknown>).agencies = {}),
      'agencies agencies.type',
    ],
    ['an unknown top-level key', (d) => (d.agency = []), 'agency property.unknown'],
  ])('reports %s', (_label, breakIt, expected) => {
    const json = minimal() as Minimal;
    breakIt(json);
    expect(problemsOf(json)).toContain(expected);
  });

  it('accepts $-prefixed keys as comments', () => {
    const json = minimal();
    Object.assign(json, { $comment: 'demo' });
    Object.assign(json.agencies[0], { $comment: 'lead bureau' });
    expect(parseDirectory(json, 'x').agencies).toHaveLength(4);
  });

  it('lists every problem at once in a bilingual message that names each place', () => {
    const json = minimal();
    json.agencies[0].jurisdiction = '510100';
    json.agencies[2].creditCode = 'ABC';
    json.agencies[3].roles = [];
    const error = (() => {
      try {
        parseDirectory(json, 'config/directory/broken.json');
      } catch (e) {
        return e as DirectoryError;
      }
    })();
    expect(error?.problems.map((p) => p.path)).toEqual([
      'agencies[0].jurisdiction',
      'agencies[2].creditCode',
      'agencies[3].roles',
    ]);
    expect(error?.message).toContain('机构名录 config/directory/broken.json 有 3 处错误');
    expect(error?.message).toContain('agency directory config/directory/broken.json has 3 problem(s)');
    expect(error?.message).toMatch(
      /\n {2}agencies\[0\]\.jurisdiction: jurisdiction\.provincial: .*省级.* \/ a provincial agency/,
    );
    expect(error?.message).toMatch(/\n {2}agencies\[2\]\.creditCode: creditCode\.length: /);
  });

  it('refuses something that is not an object', () => {
    expect(problemsOf([])).toEqual([' directory.type']);
  });
});

describe('loadDirectory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lianfang-directory-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('resolves a relative path against the working directory', async () => {
    const file = path.join(dir, 'region.json');
    await fs.writeFile(file, JSON.stringify(minimal()));
    const relative = path.relative(process.cwd(), file);
    expect(path.isAbsolute(relative)).toBe(false);
    expect(loadDirectory(relative).source).toBe(file);
  });

  it('names a missing file and says which setting points to it', () => {
    const error = (() => {
      try {
        loadDirectory(path.join(dir, 'missing.json'));
      } catch (e) {
        return e as DirectoryError;
      }
    })();
    expect(error).toBeInstanceOf(DirectoryError);
    expect(error?.problems[0]).toMatchObject({ rule: 'file.unreadable' });
    expect(error?.message).toContain('DIRECTORY_FILE');
  });

  it('reports a file that is not JSON', async () => {
    const file = path.join(dir, 'broken.json');
    await fs.writeFile(file, '{ "agencies": [ ');
    expect(() => loadDirectory(file)).toThrow(/file\.json/);
  });
});
