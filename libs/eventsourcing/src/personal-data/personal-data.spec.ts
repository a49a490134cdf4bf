import { randomBytes } from 'node:crypto';
import {
  DEV_MASTER_KEY_BASE64,
  MASTER_KEY_ENV,
  PersonalDataConfigError,
  masterKeyFromEnv,
  parseMasterKey,
} from './key-store';
import {
  ERASED,
  ERASED_LABEL,
  PersonalDataIntegrityError,
  decryptPersonalValue,
  displayPersonal,
  encryptPersonalValue,
  isErased,
  revealedOr,
  type SubjectDataKey,
} from './personal-data';

const keyOf = (subject: string, kid = 'k1'): SubjectDataKey => ({ subject, kid, key: randomBytes(32) });

describe('personal-data envelopes (AES-256-GCM)', () => {
  it('round-trips any event-data value (bigints and Dates too), and the envelope holds no plaintext', () => {
    const key = keyOf('driver:1');
    for (const value of [
      '张伟',
      '+86 138 0013 8000',
      { name: 'Li Na', phone: '13900000000' },
      42,
      ['a', 'b'],
      // The store's tagged JSON: bigints and Dates come back as they went in.
      { licence: 'A2', issued: new Date('2021-03-04T00:00:00.000Z'), deposit: 12345678901234567890n },
    ]) {
      const envelope = encryptPersonalValue(value, key, 'driver.name');
      expect(envelope).toMatchObject({
        $pd: 1,
        subject: 'driver:1',
        field: 'driver.name',
        alg: 'A256GCM',
        kid: 'k1',
      });
      expect(Buffer.from(envelope.iv, 'base64')).toHaveLength(12);
      expect(Buffer.from(envelope.tag, 'base64')).toHaveLength(16);
      if (typeof value === 'string') expect(JSON.stringify(envelope)).not.toContain(value);
      expect(decryptPersonalValue(JSON.parse(JSON.stringify(envelope)), key)).toEqual(value);
    }
  });

  it('uses a fresh nonce every time', () => {
    const key = keyOf('driver:1');
    const a = encryptPersonalValue('same', key, 'f');
    const b = encryptPersonalValue('same', key, 'f');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  it('binds the ciphertext to its subject: relabelled to another subject, it fails authentication', () => {
    const alice = keyOf('person:alice');
    const bob = { ...keyOf('person:bob'), key: alice.key }; // even with the very same key bytes
    const envelope = encryptPersonalValue('Alice', alice, 'contact.name');
    expect(() => decryptPersonalValue({ ...envelope, subject: 'person:bob' }, bob)).toThrow(
      PersonalDataIntegrityError,
    );
    expect(() => decryptPersonalValue(envelope, bob)).toThrow(/offered for/);
  });

  it('binds the field and key id, and detects tampering', () => {
    const key = keyOf('s');
    const envelope = encryptPersonalValue('secret', key, 'driver.phone');
    expect(() => decryptPersonalValue({ ...envelope, field: 'driver.name' }, key)).toThrow(
      /failed authentication/,
    );
    expect(() => decryptPersonalValue(envelope, { ...key, kid: 'other' })).toThrow(/encrypted with key "k1"/);
    const ct = Buffer.from(envelope.ct, 'base64');
    ct[0] ^= 1;
    expect(() => decryptPersonalValue({ ...envelope, ct: ct.toString('base64') }, key)).toThrow(
      PersonalDataIntegrityError,
    );
    expect(() => decryptPersonalValue({ ...envelope, $pd: 2 as 1 }, key)).toThrow(
      /Unknown personal-data envelope/,
    );
  });

  it('has the erased marker and a bilingual label for display', () => {
    expect(ERASED).toEqual({ erased: true });
    expect(isErased(ERASED)).toBe(true);
    expect(isErased({ erased: true, other: 1 })).toBe(false);
    expect(isErased('x')).toBe(false);
    expect(displayPersonal(ERASED)).toBe('已删除 / erased');
    expect(ERASED_LABEL).toBe('已删除 / erased');
    expect(displayPersonal('张伟')).toBe('张伟');
    expect(revealedOr(ERASED, null)).toBeNull();
    expect(revealedOr('x', null)).toBe('x');
  });
});

describe('master key configuration', () => {
  it('names PERSONAL_DATA_MASTER_KEY when it is missing, short or not base64', () => {
    expect(() => masterKeyFromEnv({})).toThrow(PersonalDataConfigError);
    expect(() => masterKeyFromEnv({})).toThrow(/PERSONAL_DATA_MASTER_KEY is not set/);
    expect(() => masterKeyFromEnv({ [MASTER_KEY_ENV]: randomBytes(16).toString('base64') })).toThrow(
      /PERSONAL_DATA_MASTER_KEY must be 32 bytes.*got 16/,
    );
    expect(() => parseMasterKey('not base64!')).toThrow(/PERSONAL_DATA_MASTER_KEY is not valid base64/);
    expect(() => parseMasterKey(undefined)).toThrow(/PERSONAL_DATA_MASTER_KEY/);
  });

  it('accepts 32 bytes of base64', () => {
    const key = randomBytes(32);
    expect(masterKeyFromEnv({ [MASTER_KEY_ENV]: key.toString('base64') }).equals(key)).toBe(true);
  });

  it('falls back to the public dev key only when asked for embedded/dev mode', () => {
    const warn = jest.fn();
    const key = masterKeyFromEnv({}, { mode: 'embedded', warn });
    expect(key.toString('base64')).toBe(DEV_MASTER_KEY_BASE64);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(MASTER_KEY_ENV));
    expect(() => masterKeyFromEnv({}, { mode: 'server' })).toThrow(/PERSONAL_DATA_MASTER_KEY/);
    // A configured key always wins, in any mode.
    const configured = randomBytes(32);
    expect(masterKeyFromEnv({ [MASTER_KEY_ENV]: configured.toString('base64') }, { mode: 'dev' })).toEqual(
      configured,
    );
  });
});
