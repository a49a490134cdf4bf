import {
  capacityDecider,
  type CapacityCommand,
  type CapacityEvent,
  type CapacityLedgerState,
} from './decider';

/** Runs the ledger's own decider over commands in a row, each on the state the one before left. */
export function decideInLedger(
  commands: readonly CapacityCommand[],
  state: CapacityLedgerState,
): CapacityEvent[] {
  const events: CapacityEvent[] = [];
  let current = state;
  for (const command of commands) {
    const decided = capacityDecider.decide(command, current);
    for (const event of decided) current = capacityDecider.evolve(current, event);
    events.push(...decided);
  }
  return events;
}

const LEDGER_STREAM = /^capacity-(.+)-(HW\d{2})-(\d{4})$/;

/** The ledger a `capacityStream` id names (the category and year end it, so any facility id reads back). */
export function ledgerOfStream(
  streamId: string,
): { readonly facilityId: string; readonly category: string; readonly year: number } | undefined {
  const m = LEDGER_STREAM.exec(streamId);
  return m ? { facilityId: m[1], category: m[2], year: Number(m[3]) } : undefined;
}
