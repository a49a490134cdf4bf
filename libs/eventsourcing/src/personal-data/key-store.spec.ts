import { randomBytes } from 'node:crypto';
import * as testing from '@lianfang/testing';
import { countingClient, forEachBackend, MASTER_KEY, STORE_SCHEMA } from './backends.fixture';
import { PersonalDataCodec } from './codec';
import {
  MASTER_KEY_ENV,
  PersonalDataConfigError,
  SubjectErasedError,
  SubjectKeyMissingError,
  SubjectKeyStore,
  masterKeyFromEnv,
} from './key-store';
import { ERASED, encryptPersonalValue } from './personal-data';

const KEY_SCHEMA = 'pd_keys';
const subject = (label = 's') => `${label}-${randomBytes(5).toString('hex')}`;

forEachBackend(testing, 'SubjectKeyStore', (backend) => {
  let keys: SubjectKeyStore;

  beforeAll(async () => {
    keys = await SubjectKeyStore.open(backend().client, { masterKey: MASTER_KEY, schema: KEY_SCHEMA });
  });

  const row = async (subjectId: string) =>
    (
      await backend().client.query<Record<string, unknown>>(
        `SELECT subject_id, key_id, wrapped_key, master_kid, created_at, erased_at, erased_by, erase_reason
           FROM ${KEY_SCHEMA}.subject_keys WHERE subject_id = $1`,
        [subjectId],
      )
    ).rows;

  it('keeps its table outside the event tables, created idempotently', async () => {
    await keys.ensureSchema();
    await new SubjectKeyStore(backend().otherClient, {
      masterKey: MASTER_KEY,
      schema: KEY_SCHEMA,
    }).ensureSchema();
    const { rows } = await backend().client.query<{ table_schema: string }>(
      `SELECT table_schema FROM information_schema.tables WHERE table_name = 'subject_keys' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table_schema)).toEqual([KEY_SCHEMA]);
  });

  it('creates a key once and stores it wrapped', async () => {
    const s = subject();
    const first = await keys.getOrCreateKey(s);
    expect(first.key).toHaveLength(32);
    expect(await keys.getOrCreateKey(s)).toBe(first);
    // Another instance (no shared cache) reads the same key from the table.
    const other = new SubjectKeyStore(backend().otherClient, { masterKey: MASTER_KEY, schema: KEY_SCHEMA });
    const again = await other.getOrCreateKey(s);
    expect(again.kid).toBe(first.kid);
    expect(again.key.equals(first.key)).toBe(true);

    const [stored] = await row(s);
    const wrapped = Buffer.from(stored.wrapped_key as Uint8Array);
    expect(wrapped).toHaveLength(12 + 16 + 32);
    expect(wrapped.includes(first.key)).toBe(false);
    expect(stored).toMatchObject({ key_id: first.kid, erased_at: null });
  });

  it('yields one key when two connections race to create it', async () => {
    // Two key stores on different connections (PGlite: its one connection), no shared cache.
    const a = new SubjectKeyStore(backend().client, { masterKey: MASTER_KEY, schema: KEY_SCHEMA });
    const b = new SubjectKeyStore(backend().otherClient, {
      masterKey: MASTER_KEY,
      schema: KEY_SCHEMA,
      cacheSize: 0,
    });
    const subjects = Array.from({ length: 10 }, () => subject('race'));
    const results = await Promise.all(
      subjects.flatMap((s) => [1, 2, 3].flatMap(() => [a.getOrCreateKey(s), b.getOrCreateKey(s)])),
    );
    for (const s of subjects) {
      const forSubject = results.filter((k) => k.subject === s);
      expect(forSubject).toHaveLength(6);
      expect(new Set(forSubject.map((k) => k.kid)).size).toBe(1);
      expect(new Set(forSubject.map((k) => k.key.toString('hex'))).size).toBe(1);
      expect(await row(s)).toHaveLength(1);
    }
  });

  it('erases: the key material goes, an audit row stays, and erasing again changes nothing', async () => {
    const s = subject();
    await keys.getOrCreateKey(s);
    const first = await keys.erase(s, { by: 'user:dpo-1', reason: 'PIPL Art. 47 request #7' });
    expect(first).toMatchObject({
      subject: s,
      erasedBy: 'user:dpo-1',
      reason: 'PIPL Art. 47 request #7',
      alreadyErased: false,
      hadKey: true,
    });
    const [after] = await row(s);
    expect(after.wrapped_key).toBeNull();
    expect(after.erased_by).toBe('user:dpo-1');

    const second = await keys.erase(s, { by: 'user:someone-else', reason: 'again' });
    expect(second).toEqual({ ...first, alreadyErased: true });
    expect(await row(s)).toEqual([after]);
    // From another instance too.
    const other = new SubjectKeyStore(backend().otherClient, { masterKey: MASTER_KEY, schema: KEY_SCHEMA });
    expect(await other.erase(s, { by: 'x', reason: 'y' })).toMatchObject({
      alreadyErased: true,
      erasedBy: 'user:dpo-1',
    });
    expect(await keys.erasure(s)).toEqual({
      subject: s,
      erasedAt: first.erasedAt,
      erasedBy: 'user:dpo-1',
      reason: 'PIPL Art. 47 request #7',
      hadKey: true,
    });

    // An erased subject gets no new key, and no new personal data can be protected for it.
    await expect(keys.getOrCreateKey(s)).rejects.toThrow(SubjectErasedError);
    await expect(other.getOrCreateKey(s)).rejects.toThrow(SubjectErasedError);
    await expect(new PersonalDataCodec(other).protect({ name: 'x' }, s, ['name'])).rejects.toThrow(
      SubjectErasedError,
    );
    expect(await other.getKey(s)).toEqual({ state: 'erased', subject: s });
  });

  it('refuses to store key material for an erased row (table constraint)', async () => {
    const s = subject();
    await keys.erase(s, { by: 'user:dpo-1', reason: 'never had a key' });
    await expect(
      backend().client.query(
        `UPDATE ${KEY_SCHEMA}.subject_keys SET wrapped_key = '\\x00' WHERE subject_id = $1`,
        [s],
      ),
    ).rejects.toThrow(/subject_keys_erased_has_no_key/);
  });

  it('erasing a subject that never had a key leaves a tombstone, so none is created later', async () => {
    const s = subject();
    expect(await keys.erasure(s)).toBeUndefined();
    expect(await keys.erase(s, { by: 'user:dpo-1', reason: 'pre-emptive' })).toMatchObject({
      alreadyErased: false,
      hadKey: false,
    });
    await expect(keys.getOrCreateKey(s)).rejects.toThrow(SubjectErasedError);
  });

  it('requires who and why for an erasure', async () => {
    await expect(keys.erase(subject(), { by: '', reason: 'r' })).rejects.toThrow(/`by` and `reason`/);
  });

  it('other processes see an erasure on their next cache miss, at most one TTL later', async () => {
    let now = 1_000_000;
    const counted = countingClient(backend().otherClient);
    const elsewhere = new SubjectKeyStore(counted, {
      masterKey: MASTER_KEY,
      schema: KEY_SCHEMA,
      cacheTtlMs: 60_000,
      now: () => now,
    });
    const codec = new PersonalDataCodec(elsewhere);
    const s = subject();
    const key = await keys.getOrCreateKey(s);
    const envelope = encryptPersonalValue('赵六', key, 'name');

    expect(await codec.reveal({ name: envelope })).toEqual({ name: '赵六' });
    const queries = counted.queries.length;
    await keys.erase(s, { by: 'user:dpo-1', reason: 'request' });
    // This process: at once.
    expect(await new PersonalDataCodec(keys).reveal({ name: envelope })).toEqual({ name: ERASED });
    // The other process: still cached within the TTL (documented), erased once it expires.
    now += 59_000;
    expect(await codec.reveal({ name: envelope })).toEqual({ name: '赵六' });
    expect(counted.queries).toHaveLength(queries);
    now += 2_000;
    expect(await codec.reveal({ name: envelope })).toEqual({ name: ERASED });
    expect(counted.queries).toHaveLength(queries + 1);
  });

  it('evicts the least recently used keys beyond its size', async () => {
    const counted = countingClient(backend().client);
    const small = new SubjectKeyStore(counted, { masterKey: MASTER_KEY, schema: KEY_SCHEMA, cacheSize: 2 });
    const [a, b, c] = [subject(), subject(), subject()];
    for (const s of [a, b, c]) await keys.getOrCreateKey(s);
    await small.getKeys([a, b]);
    expect(counted.queries).toHaveLength(1);
    await small.getKey(a); // a is now the most recent
    await small.getKey(c); // evicts b
    expect(counted.queries).toHaveLength(2);
    await small.getKeys([a, c]);
    expect(counted.queries).toHaveLength(2);
    await small.getKey(b);
    expect(counted.queries).toHaveLength(3);
  });

  it('fails loudly on a subject it has no row for (wrong database or schema), not as "erased"', async () => {
    const s = subject();
    const key = await SubjectKeyStore.open(backend().client, { masterKey: MASTER_KEY, schema: STORE_SCHEMA });
    const envelope = encryptPersonalValue('x', await key.getOrCreateKey(s), 'name');
    // `keys` lives in another schema: it has never heard of `s`.
    await expect(new PersonalDataCodec(keys).reveal({ name: envelope })).rejects.toThrow(
      SubjectKeyMissingError,
    );
  });

  it('fails loudly with the wrong master key, naming PERSONAL_DATA_MASTER_KEY', async () => {
    const s = subject();
    await keys.getOrCreateKey(s);
    const wrong = new SubjectKeyStore(backend().client, {
      masterKey: randomBytes(32).toString('base64'),
      schema: KEY_SCHEMA,
    });
    await expect(wrong.getKey(s)).rejects.toThrow(PersonalDataConfigError);
    await expect(wrong.getKey(s)).rejects.toThrow(/wrong PERSONAL_DATA_MASTER_KEY/);
  });

  it('will not start without a master key, naming PERSONAL_DATA_MASTER_KEY', () => {
    const open = (masterKey: string | undefined) =>
      new SubjectKeyStore(backend().client, { masterKey, schema: KEY_SCHEMA });
    expect(() => open(undefined)).toThrow(PersonalDataConfigError);
    expect(() => open(undefined)).toThrow(new RegExp(`${MASTER_KEY_ENV} is not set`));
    expect(() => open(randomBytes(31).toString('base64'))).toThrow(
      /PERSONAL_DATA_MASTER_KEY must be 32 bytes/,
    );
    expect(() => open(masterKeyFromEnv({}, { mode: 'embedded' }).toString('base64'))).not.toThrow();
    expect(
      () => new SubjectKeyStore(backend().client, { masterKey: MASTER_KEY, schema: 'Bad-Name' }),
    ).toThrow(/Invalid schema name/);
  });
});
