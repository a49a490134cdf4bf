import type { AnyCommand } from '../decider/decider';
import { hashCommand } from '../store/hash-command';

/** The idempotency hash of a command: its type and data, not its metadata (ids, time, actor). */
export function commandHash(command: AnyCommand): string {
  return hashCommand({ type: command.type, data: command.data });
}
