// `npm run dlq -- list|show <id>|redrive <id|stream>|skip <id> --reason "…" --service <schema>`:
// the operators' tool for dead letters. The logic lives in libs/messaging/src/dlq/cli.ts (tested there);
// redrive and skip are requests that the service's running consumer applies with its own code.
import { runDlqCli } from '@lianfang/messaging';
import { runAsProcess } from './cli-process';

runAsProcess(runDlqCli);
