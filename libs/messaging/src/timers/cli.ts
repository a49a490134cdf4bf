import type { SqlClient } from '@lianfang/eventsourcing';
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
import {
  hasTimersTable,
  listFailingTimers,
  retryTimer,
  schemasWithTimers,
  showTimer,
  SystemClock,
  TimerOperationError,
  waitForTimerRetry,
  type Clock,
  type TimerDetail,
  type TimerState,
} from './timers';

/**
 * `npm run -s timers -- list [--failed-only] | show <id> | retry <id> --reason "…" --service <schema>`.
 *
 * The operators' view of a service's persisted timers (deadlines) that fail or were given up. The tool
 * never runs a service's fire code: `retry` only makes a given-up timer due again (recording who and
 * why); the service's running timer runner fires it with its own handler, and the tool waits for the
 * result and prints it. A retry made while the service is down is fired when it starts.
 */
export interface TimersCliIo extends OperatorCliIo {
  /** The clock "now" of a retry comes from: the service's, so its runner finds the timer due (tests). */
  readonly clock?: Clock;
}

export const DEFAULT_TIMERS_DATABASE_URL = DEFAULT_OPERATOR_DATABASE_URL;

const USAGE = [
  '用法 / Usage: npm run -s timers -- <command> --service <schema> [options]',
  '',
  '命令 / Commands:',
  '  list [--failed-only]        失败的定时器 / failing timers (retried by the service by itself) and',
  '                              given-up ones (never fired again by themselves); --failed-only: given up only',
  '  show <id|key>               详情 / one timer: state, due, attempts, last error, next attempt, retry record',
  '  retry <id|key> --reason "…" 重试 / make a given-up timer due again: the running service fires it once more',
  '',
  '选项 / Options:',
  '  --service <schema>   the service\'s schema (e.g. transfer_service); "-" becomes "_"',
  '  --by <name>          who asks (recorded; default: $USER)',
  '  --reason "…"         why (recorded; required for retry)',
  '  --wait <seconds>     how long to wait for the service to fire the retried timer (default 60); --no-wait',
  '  --limit <n>          at most n timers in the list (default 500)',
  '  DATABASE_URL         default postgres://postgres@127.0.0.1:5432/postgres',
].join('\n');

const VALUE_FLAGS = ['service', 'by', 'reason', 'wait', 'limit'];
const BOOLEAN_FLAGS = ['failed-only', 'no-wait'];

const STATE_LABELS: Record<TimerState, string> = {
  pending: '待触发 pending',
  failing: '重试中 failing',
  'given-up': '已放弃 given-up',
  fired: '已触发 fired',
  cancelled: '已取消 cancelled',
};

function timerRows(timers: readonly TimerDetail[]): string[] {
  return formatTable(
    ['ID', '状态 State', '规则 Rule', '键 Key', '到期 Due', '次数 Att.', '下次 Next attempt', '错误 Error'],
    timers.map((t) => [
      t.id,
      STATE_LABELS[t.state],
      t.name,
      clip(t.key, 48),
      iso(t.dueAt),
      String(t.attempts),
      t.state === 'given-up' ? '— (never by itself / 不再自动)' : iso(t.nextAttemptAt),
      clip(t.lastError ?? '', 70),
    ]),
  );
}

function target(args: Args, command: string): string {
  const text = args.positional[0];
  if (!text) {
    throw new UsageError(
      `${command} needs a timer id (or key), e.g. \`npm run -s timers -- ${command} <id> …\`; ` +
        '`list` shows the ids / 需要定时器编号',
    );
  }
  return text;
}

/** Runs the CLI; returns the exit code (0 ok, 1 error or failed again, 2 not fired while waiting). */
export function runTimersCli(argv: readonly string[], io: TimersCliIo): Promise<number> {
  return runOperatorCli(argv, io, {
    name: 'timers',
    usage: USAGE,
    commands: ['list', 'show', 'retry'],
    flags: { values: VALUE_FLAGS, booleans: BOOLEAN_FLAGS },
    exampleService: 'transfer_service',
    async missingTables(client, schema) {
      if (await hasTimersTable(client, schema)) return [];
      const known = await schemasWithTimers(client);
      return [
        `错误 / Error: schema "${schema}" has no timers table / 该 schema 没有定时器表.`,
        known.length > 0
          ? `  → schemas with timers / 有定时器的 schema: ${known.join(', ')}; pass one as --service.`
          : "  → no schema in this database has timers yet: is DATABASE_URL the services' database? " +
            'The table is created when a service with deadlines first starts.',
      ];
    },
    isOperatorError: (error): error is TimerOperationError => error instanceof TimerOperationError,
    hintFor: (error, schema) =>
      error.hint.replace(/`npm run timers -- ([^`]*)`/g, `\`npm run -s timers -- $1 --service ${schema}\``),
    run: (client, schema, args) => run(client, schema, args, io),
  });
}

function printTimer(out: (l: string) => void, t: TimerDetail): void {
  out(`定时器 / Timer ${t.id}`);
  out(`  状态 / State:         ${STATE_LABELS[t.state]}`);
  out(`  规则 / Rule:          ${t.name}`);
  out(`  键 / Key:             ${t.key}`);
  out(`  到期 / Due at:        ${iso(t.dueAt)}`);
  out(`  创建 / Created at:    ${iso(t.createdAt)}`);
  out(`  尝试 / Attempts:      ${t.attempts}`);
  if (t.state === 'failing' || t.state === 'pending') {
    out(`  下次 / Next attempt:  ${iso(t.nextAttemptAt)}`);
  }
  if (t.failedAt)
    out(`  放弃 / Given up at:   ${iso(t.failedAt)} (never fired again by itself / 不再自动触发)`);
  if (t.firedAt) out(`  触发 / Fired at:      ${iso(t.firedAt)}`);
  if (t.cancelledAt) out(`  取消 / Cancelled at:  ${iso(t.cancelledAt)}`);
  if (t.lockedBy) {
    out(`  执行中 / In flight:   claimed by runner ${t.lockedBy} until ${iso(t.lockedUntil)}`);
  }
  out(`  关联 / Correlation:   ${t.correlationId ?? '(none)'}`);
  out(`  起因 / Causation:     ${t.causationId ?? '(none)'}`);
  if (t.retriedAt) {
    out(
      `  人工重试 / Retried:   at ${iso(t.retriedAt)} by ${t.retriedBy ?? '?'}${t.retryReason ? ` (${t.retryReason})` : ''}`,
    );
  }
  out('错误 / Last error:');
  out(`  ${t.lastError ?? '(none / 无)'}`);
  out('数据 / Payload:');
  for (const line of JSON.stringify(t.payload, null, 2).split('\n')) out(`  ${line}`);
}

async function run(client: SqlClient, schema: string, args: Args, io: TimersCliIo): Promise<number> {
  const { out } = io;
  const cmd = (rest: string) => `\`npm run -s timers -- ${rest} --service ${schema}\``;
  switch (args.command) {
    case 'list': {
      const givenUpOnly = args.flags.has('failed-only');
      const timers = await listFailingTimers(client, schema, { givenUpOnly, limit: limitOf(args) });
      out(
        givenUpOnly
          ? `已放弃的定时器 / Given-up timers in "${schema}": ${timers.length}`
          : `失败的定时器 / Failing and given-up timers in "${schema}": ${timers.length}`,
      );
      if (timers.length === 0) {
        out('  (none / 无: every timer fires or waits for its due time)');
        return 0;
      }
      for (const l of timerRows(timers)) out(l);
      const givenUp = timers.filter((t) => t.state === 'given-up');
      out('');
      if (givenUp.length > 0) {
        out(`已放弃 / Given up: ${givenUp.length} — never fired again by themselves / 不再自动触发.`);
        out(`  → fix the cause, then ${cmd('retry <id> --reason "…"')}`);
      }
      if (givenUp.length < timers.length) {
        out('重试中 / Failing: the service retries them by itself at "Next attempt" / 服务会自动重试.');
      }
      out(`  详情 / Details: ${cmd('show <id>')}`);
      return 0;
    }
    case 'show': {
      const idOrKey = target(args, 'show');
      const t = await showTimer(client, schema, idOrKey);
      if (!t) {
        throw new TimerOperationError(
          'unknown-timer',
          `no timer "${idOrKey}" (id or key) / 没有该定时器`,
          'run `npm run timers -- list` to see the failing and given-up timers',
        );
      }
      printTimer(out, t);
      if (t.state === 'given-up') {
        out('');
        out(`下一步 / Next: fix the cause, then ${cmd(`retry ${t.id} --reason "…"`)}`);
      } else if (t.state === 'failing') {
        out('');
        out(
          '下一步 / Next: fix the cause; the service retries it by itself at "Next attempt" / 服务会自动重试.',
        );
      }
      return 0;
    }
    case 'retry': {
      const idOrKey = target(args, 'retry');
      const reason = flag(args, 'reason');
      if (!reason?.trim()) {
        throw new UsageError(
          `retry needs --reason "…" (it is recorded), e.g. ${cmd(`retry ${idOrKey} --reason "receiver licence fixed"`)} / 需要原因`,
        );
      }
      const waitText = flag(args, 'wait') ?? '60';
      if (!/^\d+$/.test(waitText)) throw new UsageError('--wait takes whole seconds, e.g. --wait 120 / 秒数');
      const by = operatorOf(args, io.env);
      const at = (io.clock ?? SystemClock).now();
      const retried = await retryTimer(client, schema, idOrKey, { by, reason, at });
      out(
        `已请求重试 / Retry requested: timer ${retried.id} (${retried.name}) is due again at ${iso(at)}, by ${by}.`,
      );
      if (args.flags.has('no-wait')) {
        out("不等待 / Not waiting: the service's timer runner fires it when it runs.");
        out(`  → follow it with ${cmd(`show ${retried.id}`)}`);
        return 0;
      }
      out(`等待服务触发 / Waiting for the service's timer runner to fire it (up to ${waitText} s)…`);
      const { outcome, timer } = await waitForTimerRetry(client, schema, retried, {
        timeoutMs: Number(waitText) * 1000,
      });
      switch (outcome) {
        case 'fired':
          out(`结果 / Result: 已触发 / fired at ${iso(timer.firedAt)}: its command went through.`);
          return 0;
        case 'cancelled':
          out(
            `结果 / Result: 已取消 / cancelled at ${iso(timer.cancelledAt)} meanwhile: its deadline became moot.`,
          );
          return 0;
        case 'given-up':
          out(`结果 / Result: 再次失败，已放弃 / failed again and given up: ${timer.lastError ?? '?'}`);
          out(`  → fix the cause and retry: ${cmd(`retry ${timer.id} --reason "…"`)}`);
          return 1;
        case 'failing':
          out(`结果 / Result: 再次失败 / failed again: ${timer.lastError ?? '?'}`);
          out(
            `  → the service retries it by itself at ${iso(timer.nextAttemptAt)}; follow it with ${cmd(`show ${timer.id}`)}`,
          );
          return 1;
        default:
          out('结果 / Result: 尚未触发 / not fired yet: is the service (its timer runner) running?');
          out('  The timer stays due: the runner fires it as soon as it runs.');
          out(`  → check with ${cmd(`show ${timer.id}`)}`);
          return 2;
      }
    }
    default:
      throw new UsageError(`unknown command ${args.command}`);
  }
}
