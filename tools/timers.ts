// `npm run -s timers -- list [--failed-only] | show <id> | retry <id> --reason "…" --service <schema>`:
// the operators' tool for failing and given-up timers (deadlines). The logic lives in
// libs/messaging/src/timers/cli.ts (tested there); retry only makes a given-up timer due again, and the
// service's running timer runner fires it with its own code.
import { runTimersCli } from '@lianfang/messaging';

runTimersCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `错误 / Error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
