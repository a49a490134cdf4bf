// `npm run dlq -- list|show <id>|redrive <id|stream>|skip <id> --reason "…" --service <schema>`:
// the operators' tool for dead letters. The logic lives in libs/messaging/src/dlq/cli.ts (tested there);
// redrive and skip are requests that the service's running consumer applies with its own code.
import { runDlqCli } from '@lianfang/messaging';

runDlqCli(process.argv.slice(2), {
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
