// How a command-line tool (dlq, timers, token, import-facilities) runs as a process: its lines to stdout and
// stderr, the environment, its exit code; an error it did not explain is printed whole, exit code 1.
interface ProcessIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export function runAsProcess(cli: (argv: readonly string[], io: ProcessIo) => Promise<number>): void {
  cli(process.argv.slice(2), {
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
}
