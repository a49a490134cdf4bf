/**
 * Drivers' personal data (name, phone): never in the manifest's events, which carry only the driver's
 * subject id. The details live in a stream of their own per subject, encrypted with the subject's key
 * (libs/eventsourcing personal-data), appended in the same atomic append as the pickup or hand-over that
 * names the driver. Erasing the subject's key erases the name and phone and leaves every manifest event
 * (and its history, positions and hashes) as it was.
 */
import {
  DomainError,
  isErased,
  type DomainEvent,
  type Personal,
  type PersonalDataCodec,
  type StreamModel,
} from '@lianfang/eventsourcing';
import { deterministicUuid } from '@lianfang/messaging';

export const driverStream = (subjectId: string) => `manifest-driver-${subjectId}`;

/** The fields of `ManifestDriverRecorded` encrypted under the driver's key. */
export const DRIVER_PERSONAL_FIELDS = ['name', 'phone'] as const;

export interface DriverDetails {
  readonly name: string;
  readonly phone: string;
}

export type ManifestDriverEvent = DomainEvent<
  'ManifestDriverRecorded',
  {
    readonly subjectId: string;
    readonly manifestNumber: string;
    readonly carrierCreditCode: string;
    /** Envelopes in the store; `{ erased: true }` once the subject is erased. */
    readonly name: Personal<string>;
    readonly phone: Personal<string>;
  }
>;

export interface DriverStreamState {
  readonly recorded: boolean;
}

export const driverStreamModel: StreamModel<ManifestDriverEvent, DriverStreamState> = {
  initialState: () => ({ recorded: false }),
  evolve: () => ({ recorded: true }),
};

/** One subject per driver per leg: the pickup's or hand-over's command names it, so a retry names it again. */
export const driverSubjectId = (manifestNumber: string, commandId: string) =>
  deterministicUuid('transfer-service.manifest.driver', manifestNumber, commandId);

// Mobile (11 digits from 1) or a landline with its area code, optionally with separators.
const PHONE = /^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/;

/** A driver as entered: name and phone required, the phone a Chinese mobile or landline number. */
export function validDriver(input: DriverDetails | undefined, prefix: string): DriverDetails {
  const name = typeof input?.name === 'string' ? input.name.trim() : '';
  if (name === '')
    throw new DomainError({
      code: 'manifest.required',
      field: `${prefix}name`,
      message: { zh: `${prefix}name 不能为空`, en: `${prefix}name is required` },
    });
  const phone = typeof input?.phone === 'string' ? input.phone.replace(/\s+/g, '') : '';
  if (!PHONE.test(phone))
    throw new DomainError({
      code: 'manifest.driver-phone-format',
      field: `${prefix}phone`,
      message: {
        zh: '驾驶员电话须为11位手机号或带区号的固定电话',
        en: "the driver's phone is an 11-digit mobile number or a landline with its area code",
      },
    });
  return { name, phone };
}

/** The driver event with name and phone encrypted for the subject (before the append's transaction). */
export async function protectedDriverEvent(
  codec: PersonalDataCodec,
  input: {
    readonly subjectId: string;
    readonly manifestNumber: string;
    readonly carrierCreditCode: string;
    readonly driver: DriverDetails;
  },
): Promise<ManifestDriverEvent> {
  const data = await codec.protect(
    {
      subjectId: input.subjectId,
      manifestNumber: input.manifestNumber,
      carrierCreditCode: input.carrierCreditCode,
      name: input.driver.name,
      phone: input.driver.phone,
    },
    input.subjectId,
    DRIVER_PERSONAL_FIELDS,
  );
  return { type: 'ManifestDriverRecorded', data };
}

/** A driver as read back: the values, or erased. */
export interface RevealedDriver {
  readonly name: string | null;
  readonly phone: string | null;
  readonly erased: boolean;
}

export async function revealDriver(codec: PersonalDataCodec, stored: unknown): Promise<RevealedDriver> {
  const data = await codec.reveal<{ name: Personal<string>; phone: Personal<string> }>(stored);
  const erased = isErased(data.name) || isErased(data.phone);
  return {
    name: isErased(data.name) ? null : data.name,
    phone: isErased(data.phone) ? null : data.phone,
    erased,
  };
}
