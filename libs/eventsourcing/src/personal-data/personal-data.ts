import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decodeJson, encodeJson } from '../store/json-codec';

/**
 * Personal data in events (crypto-shredding).
 *
 * A field that holds personal data (a driver's name, a contact's phone number) is stored in the event's
 * `data` as an envelope, encrypted with a data key of its own for the person it is about (the subject).
 * The keys live outside the event streams (see `SubjectKeyStore`); erasing a subject's key makes every
 * envelope of that subject unreadable for good, while every stream, position, event id and stored byte
 * stays what it was.
 *
 * Stored form (JSON, inside the event's `data`):
 *
 * ```json
 * { "$pd": 1, "subject": "driver:0192…", "field": "driver.name", "alg": "A256GCM",
 *   "kid": "5f0c…", "iv": "<b64>", "ct": "<b64>", "tag": "<b64>" }
 * ```
 *
 * The additional authenticated data binds the ciphertext to its subject, key id and field, so an envelope
 * copied to another subject (or relabelled as another field) fails authentication instead of decrypting.
 * `field` records where `protect` put the envelope; it is checked as written, not recomputed from the
 * envelope's current place, so an upcaster may move or rename the field without breaking decryption.
 * Upcasters run before revealing: they see envelopes, and can move them but not read or change the value.
 *
 * A `$pd` key is reserved: event data must not use it for anything else.
 */

/** Marks an object in event data as a personal-data envelope; the value is the envelope format version. */
export const PD_MARKER = '$pd';
export const PD_VERSION = 1;
export const PD_ALGORITHM = 'A256GCM';

/** Shown wherever an erased field would be displayed. */
export const ERASED_LABEL = '已删除 / erased';

/** An encrypted personal-data field as stored in event data. `T` is the type of the plaintext (phantom). */
export interface PersonalDataEnvelope<T = unknown> {
  readonly $pd: typeof PD_VERSION;
  /** Whose data it is: the key is this subject's. */
  readonly subject: string;
  /** The field path `protect` was given, e.g. `driver.name`; bound into the AAD. */
  readonly field: string;
  readonly alg: typeof PD_ALGORITHM;
  /** The id of the subject's data key that encrypted it. */
  readonly kid: string;
  /** 12-byte nonce, base64. */
  readonly iv: string;
  /** Ciphertext of the value's JSON text (the store's tagged JSON: bigints and Dates survive), base64. */
  readonly ct: string;
  /** 16-byte GCM tag, base64. */
  readonly tag: string;
  /** Never present at run time: carries the plaintext type through domain code. */
  readonly __plaintext?: T;
}

/** What an erased field reads as. */
export interface ErasedPersonalData {
  readonly erased: true;
}

/** The one erased marker (frozen): `{ erased: true }`. */
export const ERASED: ErasedPersonalData = Object.freeze({ erased: true as const });

/**
 * A personal-data field as domain code sees it: the value, or the erased marker once its subject has
 * been erased. Event types declare such fields as `Personal<string>` (etc.); deciders, evolve functions
 * and projections must handle `ErasedPersonalData` (see `isErased`, `displayPersonal`).
 *
 * On the way in, handlers put the plain value and call `PersonalDataCodec.protect` before appending; on
 * the way out, a store wrapped with `withPersonalData` hands back `T | ErasedPersonalData`.
 */
export type Personal<T> = T | ErasedPersonalData;

export function isErased(value: unknown): value is ErasedPersonalData {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { erased?: unknown }).erased === true &&
    Object.keys(value).length === 1
  );
}

/** The value, or `fallback` when erased. */
export function revealedOr<T, F>(value: Personal<T>, fallback: F): T | F {
  return isErased(value) ? fallback : value;
}

/** For display: the value as text, or the bilingual erased label. */
export function displayPersonal(value: Personal<unknown>): string {
  if (isErased(value)) return ERASED_LABEL;
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function isPersonalDataEnvelope(value: unknown): value is PersonalDataEnvelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.prototype.hasOwnProperty.call(value, PD_MARKER)
  );
}

/** The envelope is damaged, of an unknown version, or failed authentication (tampered or moved). */
export class PersonalDataIntegrityError extends Error {
  override readonly name = 'PersonalDataIntegrityError';
  constructor(
    message: string,
    readonly subject?: string,
  ) {
    super(message);
  }
}

/** A 32-byte AES-256 key, as the key store hands it out. */
export interface SubjectDataKey {
  readonly subject: string;
  readonly kid: string;
  readonly key: Buffer;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The AAD: format, algorithm, subject, key id and field, as a JSON array so no two tuples collide. */
function additionalData(subject: string, kid: string, field: string): Buffer {
  return Buffer.from(JSON.stringify(['lianfang.pd', PD_VERSION, PD_ALGORITHM, subject, kid, field]), 'utf8');
}

/** Encrypts one value for `key.subject` as field `field`; encoded like event data (`encodeJson`). */
export function encryptPersonalValue<T>(
  value: T,
  key: SubjectDataKey,
  field: string,
): PersonalDataEnvelope<T> {
  if (key.key.length !== KEY_BYTES) throw new Error(`A subject data key must be ${KEY_BYTES} bytes`);
  const text = encodeJson(value);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData(key.subject, key.kid, field));
  const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return {
    $pd: PD_VERSION,
    subject: key.subject,
    field,
    alg: PD_ALGORITHM,
    kid: key.kid,
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Checks the envelope's shape and version; returns it typed. */
export function assertEnvelope(value: unknown): PersonalDataEnvelope {
  if (!isPersonalDataEnvelope(value)) throw new PersonalDataIntegrityError('Not a personal-data envelope');
  const e = value as unknown as Record<string, unknown>;
  const subject = typeof e.subject === 'string' ? e.subject : undefined;
  if (e.$pd !== PD_VERSION) {
    throw new PersonalDataIntegrityError(`Unknown personal-data envelope version ${String(e.$pd)}`, subject);
  }
  if (e.alg !== PD_ALGORITHM) {
    throw new PersonalDataIntegrityError(`Unknown personal-data algorithm ${String(e.alg)}`, subject);
  }
  for (const k of ['subject', 'field', 'kid', 'iv', 'ct', 'tag'] as const) {
    if (typeof e[k] !== 'string') {
      throw new PersonalDataIntegrityError(`Personal-data envelope without "${k}"`, subject);
    }
  }
  return value;
}

/**
 * Decrypts one envelope with its subject's key. Throws PersonalDataIntegrityError when the key is not the
 * one named by the envelope or authentication fails (wrong subject, tampered bytes).
 */
export function decryptPersonalValue<T = unknown>(envelope: PersonalDataEnvelope<T>, key: SubjectDataKey): T {
  const e = assertEnvelope(envelope);
  if (key.subject !== e.subject) {
    throw new PersonalDataIntegrityError(
      `Key of subject "${key.subject}" offered for "${e.subject}"`,
      e.subject,
    );
  }
  if (key.kid !== e.kid) {
    throw new PersonalDataIntegrityError(
      `Envelope of subject "${e.subject}" was encrypted with key "${e.kid}", the key store holds "${key.kid}"`,
      e.subject,
    );
  }
  const iv = Buffer.from(e.iv, 'base64');
  const tag = Buffer.from(e.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new PersonalDataIntegrityError(`Malformed envelope of subject "${e.subject}"`, e.subject);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(e.subject, e.kid, e.field));
    decipher.setAuthTag(tag);
    const text = Buffer.concat([decipher.update(Buffer.from(e.ct, 'base64')), decipher.final()]).toString(
      'utf8',
    );
    return decodeJson(text) as T;
  } catch (cause) {
    throw new PersonalDataIntegrityError(
      `Personal data of subject "${e.subject}" (field "${e.field}") failed authentication: tampered, or moved from another subject or field (${(cause as Error).message})`,
      e.subject,
    );
  }
}
