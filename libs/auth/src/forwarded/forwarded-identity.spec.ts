import { generateKeyPair, SignJWT } from 'jose';
import type { Identity } from '../identity';
import { createForwardedIdentityVerifier, createIdentitySigner } from './forwarded-identity';

const identity: Identity = {
  subject: 'zhang.wei',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['reviewer', 'approver'],
};

describe('forwarded identity (gateway → subgraph)', () => {
  it('round-trips the identity signed by the gateway key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const token = await createIdentitySigner(privateKey).sign(identity, { correlationId: 'c-1' });
    expect(await createForwardedIdentityVerifier(publicKey).verify(token)).toEqual(identity);
  });

  it('refuses a request without the header', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    await expect(createForwardedIdentityVerifier(publicKey).verify(undefined)).rejects.toMatchObject({
      code: 'IDENTITY_MISSING',
    });
  });

  it('refuses an identity signed by another key (forged)', async () => {
    const gateway = await generateKeyPair('ES256');
    const forger = await generateKeyPair('ES256');
    const token = await createIdentitySigner(forger.privateKey).sign(identity);
    await expect(createForwardedIdentityVerifier(gateway.publicKey).verify(token)).rejects.toMatchObject({
      code: 'IDENTITY_INVALID',
    });
  });

  it('refuses an expired identity', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({
      agency_id: 'sc-eeb',
      agency_kind: 'provincial-bureau',
      jurisdiction: '510000',
      roles: ['viewer'],
    })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('x')
      .setIssuer('lianfang-gateway')
      .setAudience('lianfang-subgraph')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(privateKey);
    await expect(createForwardedIdentityVerifier(publicKey).verify(token)).rejects.toMatchObject({
      code: 'IDENTITY_INVALID',
    });
  });

  it('refuses a token whose claims are malformed, naming the claim', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const token = await createIdentitySigner(privateKey).sign({ ...identity, jurisdiction: '51' });
    await expect(createForwardedIdentityVerifier(publicKey).verify(token)).rejects.toMatchObject({
      code: 'TOKEN_CLAIMS_INVALID',
      field: 'jurisdiction',
    });
  });
});
