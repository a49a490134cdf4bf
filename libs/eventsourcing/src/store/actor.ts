/**
 * Who did it. A person acts for an agency in a jurisdiction; policies, process managers and timers
 * act as the system, still named, so history says which rule acted.
 */
export type Actor =
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly agencyId: string;
      /** GB/T 2260 code of the agency's jurisdiction. */
      readonly jurisdiction: string;
    }
  | {
      readonly kind: 'system';
      /** The policy, process manager or timer that acted, e.g. `transfer.completeness-timer`. */
      readonly name: string;
    };

export const systemActor = (name: string): Actor => ({ kind: 'system', name });
