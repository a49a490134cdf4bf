import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createIdentitySigner, IDENTITY_HEADER, type Identity } from '@lianfang/auth';
import { CreditCode } from '@lianfang/domain-kernel';
import { EVENT_STORE, type EventStore } from '@lianfang/eventsourcing';
import { useRunningService, useTestDatabase } from '@lianfang/testing';
import { exportSPKI, generateKeyPair, type KeyLike } from 'jose';
import { service } from '../../service';
import { facilityStream } from '../decider';
import { csvLine } from './csv';
import { licenceFacilityId } from './facility-import';
import { LICENCE_CSV_HEADER } from './licence-csv';

const ROOT = path.resolve(__dirname, '../../../../..');

const chongqingClerk: Identity = {
  subject: 'wang.fang',
  agencyId: 'cq-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '500000',
  roles: ['clerk'],
};
const generator: Identity = {
  subject: 'chen.jie',
  agencyId: 'cq-gen-1',
  agencyKind: 'generator',
  jurisdiction: '500100',
  roles: ['clerk', 'admin'],
};

const operator = CreditCode.withCheckCharacter('91500000MA5U12345').value;

/** One CSV row in the template's column order. */
const row = (licence: string, category: string, tonnes: string, over: Record<string, string> = {}) => {
  const cells: Record<string, string> = {
    licence,
    zh: `重庆${licence}处置中心`,
    en: `Chongqing disposal centre ${licence}`,
    operator,
    jurisdiction: '500112',
    lat: '29.718',
    lon: '106.63',
    category,
    tonnes,
    codes: '',
    from: '2024-01-01',
    to: '2099-12-31',
    ...over,
  };
  return csvLine(Object.values(cells));
};
const file = (rows: string[], header = LICENCE_CSV_HEADER) => `${[header, ...rows].join('\r\n')}\r\n`;

const IMPORT = `mutation($key: String!, $csv: String!, $dryRun: Boolean) {
  importFacilities(idempotencyKey: $key, csv: $csv, dryRun: $dryRun) {
    dryRun accepted rows facilities registered updated unchanged
    problems { line column field rule message { zh en } value }
    entries { licenceNumber facilityId outcome lines }
  } }`;

interface Report {
  dryRun: boolean;
  accepted: boolean;
  rows: number;
  facilities: number;
  registered: number;
  updated: number;
  unchanged: number;
  problems: {
    line: number;
    column: string | null;
    field: string | null;
    rule: string;
    message: { zh: string; en: string };
    value: string | null;
  }[];
  entries: { licenceNumber: string; facilityId: string; outcome: string; lines: number[] }[];
}

describe('transfer-service on PostgreSQL: importing existing licences from CSV', () => {
  const db = useTestDatabase('facility-import');
  let key: KeyLike | undefined;
  const env: Record<string, string> = {};
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    Object.assign(env, {
      GATEWAY_PUBLIC_KEY: await exportSPKI(pair.publicKey),
      EVENT_STORE: 'postgres',
      DATABASE_URL: db().url,
    });
  });
  const running = useRunningService(service, { env });
  const signed = async (identity: Identity) =>
    createIdentitySigner(key as KeyLike).sign(identity) as Promise<string>;

  async function graphql<D>(query: string, variables: Record<string, unknown>, identity = chongqingClerk) {
    const res = await fetch(`${running().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: await signed(identity) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as {
      data?: D | null;
      errors?: { message: string; extensions: Record<string, unknown> }[];
    };
  }
  const importCsv = async (csv: string, idempotencyKey: string, dryRun?: boolean, who = chongqingClerk) => {
    const body = await graphql<{ importFacilities: Report }>(
      IMPORT,
      { key: idempotencyKey, csv, dryRun: dryRun ?? null },
      who,
    );
    expect(body.errors).toBeUndefined();
    return body.data?.importFacilities as Report;
  };
  const store = () => running().app.get<EventStore>(EVENT_STORE, { strict: false });
  const eventsOf = async (facilityId: string) =>
    (await store().readStream(facilityStream(facilityId))).events;
  const facility = async (id: string) =>
    (
      await graphql<{ facility: Record<string, unknown> | null }>(
        `
          query ($id: ID!) {
            facility(id: $id) {
              id
              name {
                zh
                en
              }
              licenceNumber
              jurisdiction
              status
              licensed {
                category
                annualCapacityKg
                wasteCodes
              }
              validTo
            }
          }
        `,
        { id },
      )
    ).data?.facility ?? null;

  it('imports a good file: several rows per licence, a bilingual header, quoted cells; ids from licence numbers', async () => {
    const csv = `\ufeff${file([
      row('渝危废经第A1号', 'HW08', '5000.5', { codes: '900-249-08; 900-214-08' }),
      row('渝危废经第A1号', 'hw49', '2000'),
      row('渝危废经第A2号', 'HW18', '800', { zh: '重庆"绿源"环保, 有限公司', jurisdiction: '500115' }),
    ])}`;
    const report = await importCsv(csv, 'import-good-1');
    expect(report).toMatchObject({
      dryRun: false,
      accepted: true,
      rows: 3,
      facilities: 2,
      registered: 2,
      updated: 0,
      unchanged: 0,
      problems: [],
    });
    const a1 = licenceFacilityId('渝危废经第A1号');
    expect(report.entries).toEqual([
      { licenceNumber: '渝危废经第A1号', facilityId: a1, outcome: 'REGISTERED', lines: [2, 3] },
      {
        licenceNumber: '渝危废经第A2号',
        facilityId: licenceFacilityId('渝危废经第A2号'),
        outcome: 'REGISTERED',
        lines: [4],
      },
    ]);
    // Read-your-writes: the facilities are there when the mutation answers.
    expect(await facility(a1)).toMatchObject({
      licenceNumber: '渝危废经第A1号',
      jurisdiction: '500112',
      status: 'ACTIVE',
      licensed: [
        { category: 'HW08', annualCapacityKg: '5000500.000', wasteCodes: ['900-214-08', '900-249-08'] },
        { category: 'HW49', annualCapacityKg: '2000000.000', wasteCodes: null },
      ],
    });
    expect(await facility(licenceFacilityId('渝危废经第A2号'))).toMatchObject({
      name: { zh: '重庆"绿源"环保, 有限公司' },
    });
    const [registered] = await eventsOf(a1);
    expect(registered.type).toBe('FacilityRegistered');
    expect(registered.metadata.actor).toMatchObject({
      kind: 'user',
      userId: 'wang.fang',
      agencyId: 'cq-eeb',
    });
  });

  it('reports every bad row by line, column and rule in both languages, and imports nothing', async () => {
    const csv = file([
      row('渝危废经第B1号', 'HW08', '100'),
      row('渝危废经第B1号', 'HW08', '0', { codes: '900-041-49' }), // line 3: duplicate category, zero capacity
      row('渝危废经第B2号', 'HW99', '100', { lat: '95', from: '2024/01/01' }), // line 4: three bad cells
      row('渝危废经第B3号', 'HW08', '100', { operator: '91500000MA5U1234X', jurisdiction: '500000' }), // 5
      row('渝危废经第B1号', 'HW49', '10', { jurisdiction: '500113' }), // line 6: a second jurisdiction
      row('渝危废经第B4号', 'HW08', '100', { to: '2020-12-31', from: '2020-01-01' }), // 7: expired
      row('渝危废经第B5号', 'HW08', '100', { jurisdiction: '510100' }), // line 8: Sichuan, not ours
      '"渝危废经第B6号,HW08', // line 9: a quote never closed
    ]);
    const report = await importCsv(csv, 'import-bad-1');
    expect(report).toMatchObject({ accepted: false, registered: 0, updated: 0, unchanged: 0, entries: [] });
    const found = report.problems.map((p) => [p.line, p.field, p.rule]);
    expect(found).toEqual(
      expect.arrayContaining([
        [3, 'annualCapacityTonnes', 'facility.capacity-not-positive'],
        [3, 'wasteCodes', 'facility.waste-code-outside-category'],
        [3, 'category', 'facility.duplicate-category'],
        [4, 'category', expect.stringMatching(/^facility\./)],
        [4, 'lat', 'facility.coordinate-range'],
        [4, 'validFrom', expect.stringMatching(/^facility\./)],
        [5, 'operatorCreditCode', expect.stringMatching(/^facility\.credit-code/)],
        [5, 'jurisdiction', 'facility.jurisdiction-not-city'],
        [6, 'jurisdiction', 'facility-import.inconsistent-licence'],
        [7, 'validTo', 'facility.licence-expired'],
        [8, 'jurisdiction', 'facility.manage'],
        [9, null, 'facility-import.unterminated-quote'],
      ]),
    );
    // Every data line but the first licence's good row is reported; lines ascend.
    expect([...new Set(report.problems.map((p) => p.line))]).toEqual([3, 4, 5, 6, 7, 8, 9]);
    const zero = report.problems.find((p) => p.rule === 'facility.capacity-not-positive');
    expect(zero).toMatchObject({
      column: '年经营规模（吨） annual capacity tonnes',
      value: '0',
      message: { zh: expect.stringMatching(/[\u4e00-\u9fff]/), en: expect.stringMatching(/capacity/) },
    });
    for (const licence of ['渝危废经第B1号', '渝危废经第B2号', '渝危废经第B4号'])
      expect(await eventsOf(licenceFacilityId(licence))).toHaveLength(0);
  });

  it('reports a header it cannot read: unknown, missing and duplicate columns', async () => {
    const header = csvLine([
      'licence number',
      '中文名称',
      'Name EN',
      '统一社会信用代码',
      '所在地',
      '纬度 / lat',
      'longitude',
      '类别',
      '年经营规模（吨）',
      'remarks',
      'valid from',
      '许可证编号',
    ]);
    const report = await importCsv(file([row('渝危废经第C1号', 'HW08', '1')], header), 'import-header-1');
    expect(report.accepted).toBe(false);
    expect(report.problems.map((p) => [p.line, p.column, p.rule])).toEqual([
      [1, 'remarks', 'facility-import.unknown-column'],
      [1, '许可证编号', 'facility-import.duplicate-column'],
      [1, '有效期至 valid to', 'facility-import.missing-column'],
    ]);
  });

  it('changes nothing when the same file is imported again; a changed capacity is an update', async () => {
    const rows = [row('渝危废经第D1号', 'HW08', '100'), row('渝危废经第D2号', 'HW17', '300')];
    const first = await importCsv(file(rows), 'import-again-1');
    expect(first).toMatchObject({ accepted: true, registered: 2 });
    const d1 = licenceFacilityId('渝危废经第D1号');
    const before = await store().readStream(facilityStream(d1));

    // Another request (a new key): the licences are found by their numbers, nothing is recorded.
    const again = await importCsv(file(rows), 'import-again-2');
    expect(again).toMatchObject({ accepted: true, registered: 0, updated: 0, unchanged: 2 });
    expect(again.entries.map((e) => e.facilityId)).toEqual(first.entries.map((e) => e.facilityId));
    expect((await store().readStream(facilityStream(d1))).version).toBe(before.version);

    // The same key again answers the first report, storing nothing.
    expect(await importCsv(file(rows), 'import-again-1')).toEqual(first);

    const renewed = await importCsv(file([row('渝危废经第D1号', 'HW08', '150'), rows[1]]), 'import-again-3');
    expect(renewed).toMatchObject({ accepted: true, registered: 0, updated: 1, unchanged: 1 });
    const events = await eventsOf(d1);
    expect(events.map((e) => e.type)).toEqual(['FacilityRegistered', 'FacilityUpdated']);
    expect(events[1].data).toMatchObject({
      capacityChanges: [{ category: 'HW08', fromKg: '100000.000', toKg: '150000.000' }],
    });
  });

  it('stores nothing on a dry run, and says what an import would do', async () => {
    const csv = file([row('渝危废经第E1号', 'HW08', '100'), row('渝危废经第E1号', 'HW49', '5')]);
    const dry = await importCsv(csv, 'import-dry-1', true);
    expect(dry).toMatchObject({ dryRun: true, accepted: true, rows: 2, facilities: 1, registered: 1 });
    const id = licenceFacilityId('渝危废经第E1号');
    expect(await eventsOf(id)).toHaveLength(0);
    expect(await facility(id)).toBeNull();
    // No idempotency record either: the key is free for the real import of another file.
    const real = await importCsv(file([row('渝危废经第E1号', 'HW08', '100')]), 'import-dry-1');
    expect(real).toMatchObject({ dryRun: false, registered: 1 });
  });

  it('lets only a provincial bureau import', async () => {
    const body = await graphql<{ importFacilities: Report }>(
      IMPORT,
      { key: 'import-gen-1', csv: file([row('渝危废经第F1号', 'HW08', '1')]), dryRun: null },
      generator,
    );
    expect(body.data).toBeNull();
    expect(body.errors?.[0].extensions).toMatchObject({ category: 'FORBIDDEN', rule: 'facility.manage' });
  });

  describe('the CLI (npm run -s import-facilities), through a stand-in for the gateway', () => {
    let gateway: Server;
    let gatewayUrl: string;
    let dir: string;
    const TOKEN = 'token-of-the-chongqing-clerk';

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'facility-import-cli-'));
      // Verifies the bearer token and forwards with the signed identity, as the gateway does.
      gateway = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          void (async () => {
            if (req.headers.authorization !== `Bearer ${TOKEN}`) {
              res.writeHead(401, { 'content-type': 'application/json' });
              res.end(
                JSON.stringify({ errors: [{ message: 'bad token', extensions: { code: 'TOKEN_INVALID' } }] }),
              );
              return;
            }
            const answer = await fetch(`${running().url}/graphql`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                [IDENTITY_HEADER]: await signed(chongqingClerk),
              },
              body: Buffer.concat(chunks),
            });
            res.writeHead(answer.status, { 'content-type': 'application/json' });
            res.end(await answer.text());
          })();
        });
      });
      await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
      gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/graphql`;
    });
    afterAll(async () => {
      await new Promise((resolve) => gateway.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });

    async function cli(args: string[]) {
      const child = spawn(
        process.execPath,
        ['-r', path.join(ROOT, 'tools/register-ts.cjs'), 'tools/import-facilities.ts', ...args],
        { cwd: ROOT, env: { ...process.env, LIANFANG_TOKEN: TOKEN }, stdio: 'pipe' },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stdout, stderr };
    }

    it('imports 10,000 rows in chunks with progress on stderr, then finds them unchanged', async () => {
      const rows: string[] = [];
      const categories = ['HW08', 'HW17', 'HW18', 'HW49'];
      for (let f = 0; f < 2_500; f++)
        for (const c of categories)
          rows.push(
            row(`渝危废经第G${f}号`, c, `${(f % 97) + 1}.5`, { jurisdiction: f % 2 ? '500112' : '500115' }),
          );
      const big = path.join(dir, 'licences.csv');
      await writeFile(big, file(rows));

      const started = Date.now();
      const run = await cli([big, '--url', gatewayUrl, '--json']);
      const seconds = (Date.now() - started) / 1000;
      expect(run.stderr).toContain('导入 / imported 10000/10000');
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^校验 \/ validated \d{3}\/10000$/m);
      const report = JSON.parse(run.stdout) as Report;
      expect(report).toMatchObject({ accepted: true, rows: 10_000, facilities: 2_500, registered: 2_500 });
      expect(report.entries[2_499].lines).toEqual([9998, 9999, 10000, 10001]);
      // Validation of the whole file, then the import: a reasonable time even on a shared 2-core machine.
      process.stdout.write(`10,000 licence rows imported through the CLI in ${seconds.toFixed(1)} s\n`);
      expect(seconds).toBeLessThan(240);

      const again = await cli([big, '--url', gatewayUrl]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('unchanged 2500');
    }, 600_000);

    it('prints the bad rows with their line in the file, imports nothing, exits 1; --dry-run stores nothing', async () => {
      const bad = path.join(dir, 'bad.csv');
      await writeFile(
        bad,
        file([
          row('渝危废经第H1号', 'HW08', '1'),
          row('渝危废经第H2号', 'HW08', '-3'),
          row('渝危废经第H1号', 'HW49', '2'),
        ]),
      );
      const run = await cli([bad, '--url', gatewayUrl, '--chunk-rows', '1']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/第 3 行 \/ line 3 \[年经营规模（吨） annual capacity tonnes\] facility\./);
      expect(run.stdout).toContain('nothing imported: 1 problem(s)');
      expect(await eventsOf(licenceFacilityId('渝危废经第H1号'))).toHaveLength(0);

      const good = path.join(dir, 'good.csv');
      await writeFile(good, file([row('渝危废经第H3号', 'HW08', '1')]));
      const dry = await cli([good, '--url', gatewayUrl, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('registered 1');
      expect(await eventsOf(licenceFacilityId('渝危废经第H3号'))).toHaveLength(0);

      const noToken = await cli([good, '--url', gatewayUrl, '--token', 'wrong']);
      expect(noToken.code).toBe(1);
      expect(noToken.stderr).toContain('TOKEN_INVALID');
      const usage = await cli([]);
      expect(usage.code).toBe(2);
    }, 120_000);
  });
});
