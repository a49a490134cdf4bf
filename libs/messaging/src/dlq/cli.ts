import type { SqlClient } from '@lianfang/eventsourcing';
import { DEAD_LETTER_STATUSES, hasConsumerTables, type DeadLetterStatus } from '../consumer/tables';
import {
  DeadLetterError,
  listDeadLetters,
  requestRedrive,
  requestSkip,
  showDeadLetter,
  waitForRequest,
  type DeadLetter,
  type RedriveOutcome,
  type RedriveRequest,
} from './dead-letters';
import {
  clip,
  DEFAULT_OPERATOR_DATABASE_URL,
  flag,
  formatTable,
  isoSeconds as iso,
  limitOf,
  operatorOf,
  runOperatorCli,
  UsageError,
  type CliArgs as Args,
  type OperatorCliIo,
} from '../operator-cli/operator-cli';

/**
 * `npm run dlq -- list|show <id>|redrive <id|stream>|skip <id> --reason "…" --service <schema>`.
 *
 * The tool never runs a service's effect code: redrive and skip are REQUESTS recorded in the service's
 * schema; the service's running consumer applies them with its own handler (LISTEN/NOTIFY, plus a poll),
 * and the tool waits for the result and prints it (see dead-letters.ts). A request made while the service
 * is down is applied when it starts.
 */
export type DlqCliIo = OperatorCliIo;

export const DEFAULT_DLQ_DATABASE_URL = DEFAULT_OPERATOR_DATABASE_URL;

const USAGE = [
  '用法 / Usage: npm run dlq -- <command> --service <schema> [options]',
  '',
  '命令 / Commands:',
  '  list                        死信列表 / list dead letters (open ones; --all, --status S, --stream X)',
  '  show <id>                   详情 / one dead letter: message, headers, error, what is parked behind it, history',
  '  redrive <id|stream>         重放 / redrive the stream: its head, then the parked messages, in order',
  '  skip <id> --reason "…"      跳过 / mark the head skipped (never applied), then redrive the rest',
  '',
  '选项 / Options:',
  '  --service <schema>   the consuming service\'s schema (e.g. compensation); "-" becomes "_"',
  '  --group <group>      the consumer group, when a stream is parked in several',
  '  --by <name>          who acts (recorded; default: $USER)',
  '  --reason "…"         why (recorded; required for skip)',
  '  --wait <seconds>     how long to wait for the consumer to apply a request (default 60); --no-wait',
  '  DATABASE_URL         default postgres://postgres@127.0.0.1:5432/postgres',
].join('\n');

const VALUE_FLAGS = ['service', 'group', 'by', 'reason', 'wait', 'status', 'stream', 'limit'];
const BOOLEAN_FLAGS = ['all', 'no-wait'];

function letterRows(letters: readonly DeadLetter[]): string[] {
  return formatTable(
    [
      'ID',
      '状态 Status',
      '组 Group',
      '流 Stream',
      '类型 Type',
      '位置 Topic[part]@offset',
      '次数 Att.',
      '入队 Parked at',
      '错误 Error',
    ],
    letters.map((l) => [
      String(l.id),
      l.status,
      l.groupId,
      clip(l.streamId, 36),
      l.type ?? '?',
      `${l.topic}[${l.partition}]@${l.offset}`,
      String(l.attempts),
      iso(l.parkedAt),
      clip(l.error ?? (l.status === 'parked' ? '(waiting behind the head / 排在队首之后)' : ''), 70),
    ]),
  );
}

function parseId(text: string | undefined, command: string): bigint {
  if (!text || !/^\d+$/.test(text)) {
    throw new UsageError(
      `${command} needs a dead-letter id, e.g. \`npm run dlq -- ${command} 12\` / 需要死信编号`,
    );
  }
  return BigInt(text);
}

function pretty(value: string): string {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

function printOutcome(out: (l: string) => void, outcome: RedriveOutcome, schema: string): number {
  const r = outcome.request;
  out('结果 / Result:');
  if (outcome.skipped.length > 0)
    out(`  已跳过 / Skipped (never applied): ${outcome.skipped.map((i) => `#${i}`).join(', ')}`);
  const applied = outcome.redriven.filter((x) => !x.duplicate);
  const dupes = outcome.redriven.filter((x) => x.duplicate);
  out(
    `  已重放 / Redriven, in order: ${applied.length > 0 ? applied.map((x) => `#${x.id}`).join(', ') : '(none)'}`,
  );
  if (dupes.length > 0) {
    out(
      `  已处理过 / Already applied (inbox), not applied again: ${dupes.map((x) => `#${x.id}`).join(', ')}`,
    );
  }
  if (outcome.refused) {
    out(`  被拒绝 / Refused: ${outcome.refused}`);
    out(`  → run \`npm run dlq -- show ${r.deadLetterId ?? ''} --service ${schema}\` and try again`);
    return 1;
  }
  if (outcome.failed) {
    out(`  再次失败 / Failed again: #${outcome.failed.id}: ${outcome.failed.error}`);
    out(
      `  → #${outcome.failed.id} is the head of stream "${r.streamId}" again; the rest stays parked behind it.`,
    );
    out(`    Fix the cause and run \`npm run dlq -- redrive ${outcome.failed.id} --service ${schema}\`,`);
    out(`    or skip it: \`npm run dlq -- skip ${outcome.failed.id} --reason "…" --service ${schema}\`.`);
    return 1;
  }
  if (!outcome.finished) {
    out(`  未完成 / Not finished yet: is the consumer of group "${r.groupId}" running?`);
    out('    The request stays pending: the consumer applies it when it runs.');
    out(`    Check with \`npm run dlq -- show ${r.deadLetterId ?? ''} --service ${schema}\`.`);
    return 2;
  }
  if (outcome.unparked) out(`  流已恢复 / Stream "${r.streamId}" unparked: new messages flow again.`);
  return 0;
}

async function waitAndPrint(
  client: SqlClient,
  schema: string,
  request: RedriveRequest,
  args: Args,
  out: (l: string) => void,
): Promise<number> {
  if (args.flags.has('no-wait')) {
    out('不等待 / Not waiting: the consumer applies the request when it runs.');
    return 0;
  }
  const waitText = flag(args, 'wait') ?? '60';
  if (!/^\d+$/.test(waitText)) throw new UsageError('--wait takes whole seconds, e.g. --wait 120 / 秒数');
  out(`等待消费者执行 / Waiting for the consumer of group "${request.groupId}" (up to ${waitText} s)…`);
  const outcome = await waitForRequest(client, schema, request, { timeoutMs: Number(waitText) * 1000 });
  return printOutcome(out, outcome, schema);
}

/** Runs the CLI; returns the exit code (0 ok, 1 error or failed again, 2 not finished while waiting). */
export function runDlqCli(argv: readonly string[], io: DlqCliIo): Promise<number> {
  return runOperatorCli(argv, io, {
    name: 'dlq',
    usage: USAGE,
    commands: ['list', 'show', 'redrive', 'skip'],
    flags: { values: VALUE_FLAGS, booleans: BOOLEAN_FLAGS },
    exampleService: 'compensation',
    async missingTables(client, schema) {
      return (await hasConsumerTables(client, schema))
        ? []
        : [
            `错误 / Error: schema "${schema}" has no dead-letter tables.`,
            "  → check --service (the consuming service's schema); the tables are created when its consumer first starts.",
          ];
    },
    isOperatorError: (error): error is DeadLetterError => error instanceof DeadLetterError,
    hintFor: (error, schema) =>
      error.hint.replace(/`npm run dlq -- ([^`]*)`/g, `\`npm run dlq -- $1 --service ${schema}\``),
    run: (client, schema, args) => run(client, schema, args, io),
  });
}

async function run(client: SqlClient, schema: string, args: Args, io: DlqCliIo): Promise<number> {
  const { out } = io;
  const by = operatorOf(args, io.env);
  const group = flag(args, 'group');
  switch (args.command) {
    case 'list': {
      const status = flag(args, 'status');
      if (status && !DEAD_LETTER_STATUSES.includes(status as DeadLetterStatus)) {
        throw new UsageError(`--status is one of ${DEAD_LETTER_STATUSES.join(', ')} / 状态取值`);
      }
      const statuses: DeadLetterStatus[] | undefined = status
        ? [status as DeadLetterStatus]
        : args.flags.has('all')
          ? undefined
          : ['parked-head', 'parked'];
      const letters = await listDeadLetters(client, schema, {
        status: statuses,
        stream: flag(args, 'stream'),
        groupId: group,
        limit: limitOf(args),
      });
      const what = statuses ? statuses.join(' / ') : 'all';
      out(`死信 / Dead letters in "${schema}" (${what}): ${letters.length}`);
      if (letters.length === 0) {
        out(
          statuses && !status
            ? '  (none open / 没有待处理的死信; --all shows resolved ones)'
            : '  (none / 无)',
        );
        return 0;
      }
      for (const l of letterRows(letters)) out(l);
      const heads = letters.filter((l) => l.status === 'parked-head');
      if (heads.length > 0) {
        out('');
        out(
          `队首 / Heads: ${heads.map((h) => `#${h.id}`).join(', ')} — \`npm run dlq -- show <id> --service ${schema}\``,
        );
      }
      return 0;
    }
    case 'show': {
      const id = parseId(args.positional[0], 'show');
      const d = await showDeadLetter(client, schema, id);
      if (!d) {
        throw new DeadLetterError(
          'unknown-id',
          `no dead letter ${id}`,
          'run `npm run dlq -- list` to see the dead letters',
        );
      }
      const l = d.letter;
      out(`死信 #${l.id} / Dead letter #${l.id}`);
      out(
        `  状态 / Status:        ${l.status}${l.resolvedBy ? ` (by ${l.resolvedBy} at ${iso(l.resolvedAt)})` : ''}`,
      );
      out(`  组 / Group:           ${l.groupId}`);
      out(`  流 / Stream:          ${l.streamId}${d.streamParked ? ' (parked / 已暂停)' : ''}`);
      out(`  位置 / Position:      ${l.topic} [partition ${l.partition}] @ offset ${l.offset}`);
      out(`  事件 / Event:         ${l.type ?? '?'} ${l.eventId ?? '(no event id)'}`);
      out(`  尝试 / Attempts:      ${l.attempts}`);
      out(`  入队 / Parked at:     ${iso(l.parkedAt)}`);
      if (d.head && d.head.id !== l.id)
        out(`  队首 / Head:          #${d.head.id} (this one waits behind it)`);
      out('错误 / Error:');
      out(`  ${l.error ?? '(none: parked behind the head / 无：排在队首之后)'}`);
      out('消息头 / Headers:');
      for (const [k, v] of Object.entries(l.headers)) out(`  ${k}: ${v}`);
      out('消息 / Message:');
      for (const line of pretty(l.value).split('\n')) out(`  ${line}`);
      out(`其后排队 / Parked behind it: ${d.behind.length}`);
      if (d.behind.length > 0) for (const row of letterRows(d.behind)) out(`  ${row}`);
      if (d.pendingRequest) {
        const p = d.pendingRequest;
        out(
          `待处理请求 / Pending request: ${p.action} by ${p.by} at ${iso(p.at)}${p.reason ? ` (${p.reason})` : ''}`,
        );
      }
      out('操作记录 / History:');
      for (const row of formatTable(
        ['时间 At', '操作 Action', '人 By', '死信 Letter', '原因 Reason'],
        d.actions.map((a) => [
          iso(a.at),
          a.action,
          a.actor,
          a.deadLetterId ? `#${a.deadLetterId}` : '',
          clip(a.reason ?? '', 90),
        ]),
      )) {
        out(`  ${row}`);
      }
      if (l.status === 'parked-head') {
        out('');
        out(`下一步 / Next: \`npm run dlq -- redrive ${l.id} --service ${schema}\` after the fix, or`);
        out(`              \`npm run dlq -- skip ${l.id} --reason "…" --service ${schema}\``);
      }
      return 0;
    }
    case 'redrive': {
      const text = flag(args, 'stream') ?? args.positional[0];
      if (!text) throw new UsageError('redrive needs a dead-letter id or a stream id / 需要死信编号或流编号');
      const target = !flag(args, 'stream') && /^\d+$/.test(text) ? BigInt(text) : text;
      const request = await requestRedrive(client, schema, target, {
        by,
        reason: flag(args, 'reason'),
        groupId: group,
      });
      out(
        `已请求重放 / Redrive requested: stream "${request.streamId}" (group ${request.groupId}), request #${request.requestId}`,
      );
      return waitAndPrint(client, schema, request, args, out);
    }
    case 'skip': {
      const id = parseId(args.positional[0], 'skip');
      const reason = flag(args, 'reason');
      if (!reason?.trim()) {
        throw new UsageError(
          `skip needs --reason "…" (it is recorded), e.g. \`npm run dlq -- skip ${id} --reason "duplicate of #7" --service ${schema}\` / 需要原因`,
        );
      }
      const request = await requestSkip(client, schema, id, { by, reason, groupId: group });
      out(
        `已请求跳过 / Skip requested: #${id} of stream "${request.streamId}" (group ${request.groupId}), request #${request.requestId}`,
      );
      return waitAndPrint(client, schema, request, args, out);
    }
    default:
      throw new UsageError(`unknown command ${args.command}`);
  }
}
