// `npm run -s timers -- list [--failed-only] | show <id> | retry <id> --reason "…" --service <schema>`:
// the operators' tool for failing and given-up timers (deadlines). The logic lives in
// libs/messaging/src/timers/cli.ts (tested there); retry only makes a given-up timer due again, and the
// service's running timer runner fires it with its own code.
import { runTimersCli } from '@lianfang/messaging';
import { runAsProcess } from './cli-process';

runAsProcess(runTimersCli);
