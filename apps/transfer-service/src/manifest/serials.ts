/**
 * Manifest numbers (Art 15): year (4) + province (2) + city (2) + a 6-digit serial that runs per city
 * per year. One counter stream per city and year, appended in the same atomic append as the manifest it
 * numbers: two manifests opened at once in one city read the same counter version, one append wins and
 * the other fails on the expected version, reloads and takes the next serial. No gaps from refusals
 * either: a refused opening appends nothing, so its serial is still free.
 *
 * (Per city, not per generator: serials per generator would give two generators of one city the same
 * number.) Pure: no I/O.
 */
import { JurisdictionCode, ManifestNumber } from '@lianfang/domain-kernel';
import {
  assertNever,
  DomainError,
  type Command,
  type Decider,
  type DomainEvent,
} from '@lianfang/eventsourcing';

/** The city whose serials a generator in `jurisdiction` draws from (a county draws from its city). */
export function numberingCity(jurisdiction: string): JurisdictionCode {
  return JurisdictionCode.parseOrThrow(jurisdiction, 'generator.jurisdiction').cityCode;
}

export const manifestSerialStream = (city: JurisdictionCode, year: number) =>
  `manifest-serials-${city.value.slice(0, 4)}-${year}`;

export type ManifestSerialCommand = Command<'AllocateSerial', { readonly manifestNumber: string }>;

export type ManifestSerialEvent = DomainEvent<
  'ManifestSerialAllocated',
  { readonly manifestNumber: string; readonly serial: number }
>;

export interface ManifestSerialState {
  readonly lastSerial: number;
}

/** Thrown when the counter moved under a number chosen before the append: choose again. */
export const NUMBER_TAKEN = 'manifest.number-taken';

/** The number the next manifest of `city` in `year` takes. */
export function nextManifestNumber(
  state: ManifestSerialState,
  year: number,
  city: JurisdictionCode,
): ManifestNumber {
  const composed = ManifestNumber.compose(year, city, state.lastSerial + 1);
  if (composed.ok) return composed.value;
  throw new DomainError({
    code: 'manifest.serials-exhausted',
    field: 'manifestNumber',
    message: {
      zh: `${city.value} ${year} 年的联单流水号已用尽`,
      en: `the manifest serials of ${city.value} for ${year} are used up`,
    },
    details: { rule: composed.error.rule },
  });
}

export const manifestSerialDecider: Decider<ManifestSerialCommand, ManifestSerialEvent, ManifestSerialState> =
  {
    initialState: () => ({ lastSerial: 0 }),

    decide(command, state) {
      switch (command.type) {
        case 'AllocateSerial': {
          const number = ManifestNumber.parseOrThrow(command.data.manifestNumber);
          if (number.serial !== state.lastSerial + 1)
            throw new DomainError({
              code: NUMBER_TAKEN,
              field: 'manifestNumber',
              message: {
                zh: `联单编号 ${number.value} 已被占用`,
                en: `manifest number ${number.value} is taken`,
              },
              details: { lastSerial: state.lastSerial },
            });
          return [
            {
              type: 'ManifestSerialAllocated',
              data: { manifestNumber: number.value, serial: number.serial },
            },
          ];
        }
        default:
          return assertNever(command.type);
      }
    },

    evolve: (state, event) =>
      event.type === 'ManifestSerialAllocated'
        ? { lastSerial: Math.max(state.lastSerial, event.data.serial) }
        : state,
  };
