import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createPostgresClient, type PostgresSqlClient } from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { startConsumer, type Consumer } from '../consumer/consumer';
import {
  counterEffect,
  counterEnvelope,
  createEffectTables,
  effectState,
  eventually,
  publish,
  testContracts,
  toOutgoing,
} from '../consumer/test-fixtures/counter.fixture';
import { createMemoryTransport, type MemoryTransport } from '../memory/memory-transport';
import { formatTable } from '../operator-cli/operator-cli';
import { runDlqCli } from './cli';
import { listDeadLetters } from './dead-letters';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const root = path.resolve(__dirname, '../../../..');

describe('dlq CLI table', () => {
  it('aligns columns by terminal width (CJK counts double)', () => {
    expect(formatTable(['ID', '状态 Status'], [['1', 'parked-head']])).toEqual([
      'ID  状态 Status',
      '──  ───────────',
      '1   parked-head',
    ]);
  });
});

describeWithPostgres('npm run dlq (real PostgreSQL, a running consumer on the memory transport)', () => {
  const db = useTestDatabase('dlq_cli');
  const schema = 'cli_svc';
  const topic = 'lianfang.cli.v1';
  let client: PostgresSqlClient;
  let transport: MemoryTransport;
  let consumer: Consumer | undefined;
  const effect = counterEffect(schema);
  let broken = true;

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDlqCli(argv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: { USER: 'cli-user' },
      client,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  const start = async () => {
    consumer = await startConsumer({
      transport,
      client,
      schema,
      groupId: 'cli.group',
      topics: [topic],
      contracts: testContracts(),
      handle: effect.handle,
      maxAttempts: 2,
      backoff: { initialMs: 5, maxMs: 10 },
      requestPollMs: false,
      logger: quiet,
    });
  };

  beforeAll(async () => {
    client = createPostgresClient({ pool: db().pool({ max: 4 }) });
    transport = createMemoryTransport({ logger: quiet });
    await createEffectTables(client, schema);
    effect.fail = (stream, seq) =>
      broken && stream === 'A' && seq === 1 ? new Error('poison A/1: no such agency') : undefined;
    await start();
    await publish(
      transport,
      [
        counterEnvelope('A', 1),
        counterEnvelope('A', 2),
        counterEnvelope('B', 1),
        counterEnvelope('A', 3),
      ].map((e) => toOutgoing(topic, e)),
    );
    await eventually('A parked', async () => consumer?.metrics().parked === 2);
  });
  afterAll(async () => {
    await consumer?.stop();
    await transport?.close();
    await client?.close();
  });

  it('lists the open dead letters in a table with bilingual headings', async () => {
    const [head, second, third] = await listDeadLetters(client, schema);
    const r = await cli('list', '--service', schema);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`死信 / Dead letters in "${schema}" (parked-head / parked): 3`);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(/^ID\s+状态 Status\s+组 Group\s+流 Stream\s+类型 Type/);
    expect(lines[3]).toMatch(
      new RegExp(`^${head.id}\\s+parked-head\\s+cli\\.group\\s+A\\s+CounterIncremented`),
    );
    expect(lines[3]).toContain('poison A/1: no such agency');
    expect(lines[4]).toMatch(new RegExp(`^${second.id}\\s+parked\\s`));
    expect(lines[5]).toMatch(new RegExp(`^${third.id}\\s+parked\\s`));
    expect(r.out).toContain(`队首 / Heads: #${head.id}`);
  });

  it('shows one dead letter: message, headers, error, what is parked behind it, history', async () => {
    const [head, second, third] = await listDeadLetters(client, schema);
    const r = await cli('show', String(head.id), '--service', schema);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`死信 #${head.id} / Dead letter #${head.id}`);
    expect(r.out).toMatch(/错误 \/ Error:\n {2}Error: poison A\/1: no such agency/);
    expect(r.out).toContain('lf-event-id: ');
    expect(r.out).toContain('"type": "CounterIncremented"');
    expect(r.out).toContain('其后排队 / Parked behind it: 2');
    expect(r.out).toMatch(new RegExp(`\\n {2}${second.id}\\s+parked`));
    expect(r.out).toMatch(new RegExp(`\\n {2}${third.id}\\s+parked`));
    expect(r.out).toMatch(/操作记录 \/ History:[\s\S]*dead-lettered\s+cli\.group/);
    expect(r.out).toContain(`npm run dlq -- redrive ${head.id} --service ${schema}`);
  });

  it('tells the user what to do when something is wrong', async () => {
    const [head, second] = await listDeadLetters(client, schema);
    let r = await cli('show', '999', '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no dead letter 999');
    expect(r.err).toContain(`run \`npm run dlq -- list --service ${schema}\``);

    r = await cli('skip', String(head.id), '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain('skip needs --reason');

    r = await cli('skip', String(second.id), '--reason', 'dup', '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`is not the head of stream "A": it waits behind dead letter ${head.id}`);
    expect(r.err).toContain(`skip ${head.id}`);

    r = await cli('list');
    expect(r.code).toBe(1);
    expect(r.err).toContain('add --service <schema>');

    r = await cli('list', '--service', 'nope');
    expect(r.code).toBe(1);
    expect(r.err).toContain('schema "nope" has no dead-letter tables');

    r = await cli('frobnicate', '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain('unknown command "frobnicate"');
    expect(r.err).toContain('用法 / Usage');

    const offline = await runDlqCli(['list', '--service', schema], {
      out: () => undefined,
      err: (l) => (r.err = l),
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
    });
    expect(offline).toBe(1);
    expect(r.err).toContain('is PostgreSQL running?');
  });

  it('redrives through the running consumer and prints the result; then nothing is open', async () => {
    const letters = await listDeadLetters(client, schema);
    // Not fixed yet: the consumer applies the request, the head fails again.
    let r = await cli('redrive', 'A', '--service', schema, '--wait', '30');
    expect(r.code).toBe(1);
    expect(r.out).toContain('已请求重放 / Redrive requested: stream "A" (group cli.group)');
    expect(r.out).toContain(`再次失败 / Failed again: #${letters[0].id}: Error: poison A/1: no such agency`);

    broken = false;
    r = await cli(
      'redrive',
      String(letters[0].id),
      '--service',
      schema,
      '--by',
      'operator-zhao',
      '--reason',
      'fixed',
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain(`已重放 / Redriven, in order: ${letters.map((l) => `#${l.id}`).join(', ')}`);
    expect(r.out).toContain('流已恢复 / Stream "A" unparked');
    expect(await effectState(client, schema)).toEqual({ total: 4, log: { A: [1, 2, 3], B: [1] } });

    r = await cli('list', '--service', schema);
    expect(r.out).toContain('(none open');
    r = await cli('list', '--service', schema, '--all');
    expect(r.out.match(/redriven/g)).toHaveLength(3);
    r = await cli('show', String(letters[0].id), '--service', schema);
    expect(r.out).toMatch(/redrive-requested\s+operator-zhao\s+#\d+\s+fixed/);
    expect(r.out).toContain('Status:        redriven (by operator-zhao');
  });

  it('says so when the consumer does not apply the request in time (exit 2), and skips through it later', async () => {
    broken = true;
    effect.fail = (stream) => (broken && stream === 'D' ? new Error('D broken') : undefined);
    await publish(transport, [
      toOutgoing(topic, counterEnvelope('D', 1)),
      toOutgoing(topic, counterEnvelope('D', 2)),
    ]);
    await eventually(
      'D parked',
      async () => (await listDeadLetters(client, schema, { stream: 'D' })).length === 2,
    );
    await consumer?.stop();
    const [head] = await listDeadLetters(client, schema, { stream: 'D' });

    let r = await cli('skip', String(head.id), '--reason', 'test data', '--service', schema, '--wait', '0');
    expect(r.code).toBe(2);
    expect(r.out).toContain('未完成 / Not finished yet: is the consumer of group "cli.group" running?');
    r = await cli('show', String(head.id), '--service', schema);
    expect(r.out).toContain('待处理请求 / Pending request: skip by cli-user');

    broken = false;
    await start(); // picks up the pending request at start
    await eventually(
      'D unparked',
      async () =>
        (await listDeadLetters(client, schema, { stream: 'D', status: ['parked-head', 'parked'] })).length ===
        0,
    );
    expect((await effectState(client, schema)).log.D).toEqual([2]);
    expect((await listDeadLetters(client, schema, { stream: 'D' })).map((l) => l.status)).toEqual([
      'skipped',
      'redriven',
    ]);
  });

  it('runs as `npm run dlq` (tools/dlq.ts) with DATABASE_URL', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      [
        '-r',
        path.join(root, 'tools/register-ts.cjs'),
        path.join(root, 'tools/dlq.ts'),
        'list',
        '--all',
        '--service',
        schema,
      ],
      { cwd: root, env: { ...process.env, DATABASE_URL: db().url }, timeout: 60_000 },
    );
    expect(stdout).toContain(`死信 / Dead letters in "${schema}" (all): 5`);
    const failed = await run(
      process.execPath,
      [
        '-r',
        path.join(root, 'tools/register-ts.cjs'),
        path.join(root, 'tools/dlq.ts'),
        'show',
        '12345',
        '--service',
        schema,
      ],
      { cwd: root, env: { ...process.env, DATABASE_URL: db().url }, timeout: 60_000 },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('no dead letter 12345') });
  });
});
