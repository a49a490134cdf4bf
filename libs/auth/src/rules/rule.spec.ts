import { JurisdictionCode } from '@lianfang/domain-kernel';
import { AuthenticationError } from '../errors';
import type { AgencyKind, Identity, Role } from '../identity';
import { AccessDenied } from './access-denied';
import { authorize, can, defineRule, evaluateAccess, RuleDefinitionError, type AccessRule } from './rule';
import { allOf, anyOf, forAgencyKinds, party, withinJurisdiction } from './scopes';

const who = (agencyId: string, agencyKind: AgencyKind, jurisdiction: string, ...roles: Role[]): Identity => ({
  subject: `${agencyId}-person`,
  agencyId,
  agencyKind,
  jurisdiction,
  roles,
});

// A Chengdu generator ships to a Chongqing facility: Sichuan exports, Chongqing receives.
interface Transfer {
  generator: string;
  carrier: string;
  receiver: string;
  exportingBureau: string;
  receivingBureau: string;
  from: string;
  to: string;
}
const transfer: Transfer = {
  generator: 'gen-cd-1',
  carrier: 'car-1',
  receiver: 'rec-cq-1',
  exportingBureau: 'sc-eeb',
  receivingBureau: 'cq-eeb',
  from: '510104',
  to: '500101',
};

const generator = who('gen-cd-1', 'generator', '510100', 'clerk');
const otherGeneratorSameCity = who('gen-cd-2', 'generator', '510100', 'clerk', 'viewer');
const carrier = who('car-1', 'carrier', '510100', 'viewer');
const receiver = who('rec-cq-1', 'receiver', '500000', 'viewer');
const sichuan = who('sc-eeb', 'provincial-bureau', '510000', 'approver', 'viewer');
const sichuanClerk = who('sc-eeb', 'provincial-bureau', '510000', 'clerk');
const chongqing = who('cq-eeb', 'provincial-bureau', '500000', 'approver', 'viewer');
const yunnan = who('yn-eeb', 'provincial-bureau', '530000', 'approver', 'viewer');
const chengdu = who('cd-eeb', 'municipal-bureau', '510100', 'viewer');
const mianyang = who('my-eeb', 'municipal-bureau', '510700', 'viewer');
const secretariat = who('cy-sec', 'regional-secretariat', '510000', 'viewer');
const nobody = who('cd-eeb', 'municipal-bureau', '510100');

const parties = (t: Transfer) => [t.generator, t.carrier, t.receiver, t.exportingBureau, t.receivingBureau];

const readTransfer = defineRule<Transfer>({
  name: 'transfer.read',
  description: { zh: '查阅转移记录', en: 'read a transfer' },
  agencyKinds: ['generator', 'carrier', 'receiver', 'provincial-bureau', 'municipal-bureau'],
  roles: ['viewer', 'clerk', 'reviewer', 'approver'],
  scope: anyOf(
    party(parties),
    forAgencyKinds(
      ['provincial-bureau', 'municipal-bureau'],
      withinJurisdiction((t) => [t.from, t.to]),
    ),
  ),
});

const approveTransfer = defineRule<Transfer>({
  name: 'transfer.approve',
  description: { zh: '审批转移申请', en: 'approve a transfer application' },
  agencyKinds: ['provincial-bureau'],
  roles: ['approver'],
  // Only in its role on the transfer: the exporting bureau approves; the receiving one replies.
  scope: party((t) => [t.exportingBureau]),
});

const applyForTransfer = defineRule({
  name: 'transfer.apply',
  description: { zh: '提交转移申请', en: 'apply for a transfer' },
  agencyKinds: ['generator'],
  roles: ['clerk'],
});

type Expected = 'allowed' | 'agencyKind' | 'role' | 'scope';

describe('authorize: identity × rule × resource', () => {
  it.each<[string, Identity, AccessRule<Transfer>, Transfer | undefined, Expected, RegExp?]>([
    ['the generator reads its own transfer', generator, readTransfer, transfer, 'allowed'],
    ['the carrier reads the transfer it carries', carrier, readTransfer, transfer, 'allowed'],
    ['the receiver reads the transfer it receives', receiver, readTransfer, transfer, 'allowed'],
    ['the exporting bureau reads', sichuan, readTransfer, transfer, 'allowed'],
    ['the receiving bureau reads', chongqing, readTransfer, transfer, 'allowed'],
    ['the Chengdu bureau reads what touches Chengdu', chengdu, readTransfer, transfer, 'allowed'],
    [
      'another generator in the same city does not',
      otherGeneratorSameCity,
      readTransfer,
      transfer,
      'scope',
      /not a party/,
    ],
    ['a bureau of an uninvolved province does not', yunnan, readTransfer, transfer, 'scope', /530000/],
    [
      'a Sichuan city the transfer does not touch does not',
      mianyang,
      readTransfer,
      transfer,
      'scope',
      /510700/,
    ],
    [
      'the secretariat is not a kind of this rule',
      secretariat,
      readTransfer,
      transfer,
      'agencyKind',
      /regional secretariat/,
    ],
    ['a person with no roles does not', nobody, readTransfer, transfer, 'role', /you hold none/],
    ['the exporting bureau approves', sichuan, approveTransfer, transfer, 'allowed'],
    ['the receiving bureau may not approve', chongqing, approveTransfer, transfer, 'scope', /not a party/],
    [
      'a clerk of the exporting bureau may not approve',
      sichuanClerk,
      approveTransfer,
      transfer,
      'role',
      /approver/,
    ],
    [
      'a municipal bureau may not approve',
      chengdu,
      approveTransfer,
      transfer,
      'agencyKind',
      /provincial environment bureau/,
    ],
    ['a generator may not approve', generator, approveTransfer, transfer, 'agencyKind', /generator/],
    [
      'without the record, a provincial approver passes the guard',
      chongqing,
      approveTransfer,
      undefined,
      'allowed',
    ],
    [
      'without the record, the role is still checked',
      sichuanClerk,
      approveTransfer,
      undefined,
      'role',
      undefined,
    ],
    ['a generator clerk applies', generator, applyForTransfer, transfer, 'allowed'],
    [
      'a generator viewer may not apply',
      who('gen-cd-3', 'generator', '510100', 'viewer'),
      applyForTransfer,
      undefined,
      'role',
    ],
    ['a carrier may not apply', carrier, applyForTransfer, undefined, 'agencyKind'],
  ])('%s', (...[, identity, rule, resource, expected, reason]) => {
    // (a rest parameter: jest would pass `done` to a function declaring more parameters than a row has)
    const decision = evaluateAccess(identity, rule, resource);
    expect(can(identity, rule, resource)).toBe(expected === 'allowed');
    if (expected === 'allowed') {
      expect(decision).toEqual({ allowed: true });
      expect(authorize(identity, rule, resource)).toBe(identity);
      return;
    }
    expect(decision).toMatchObject({ allowed: false, check: expected });
    let thrown: unknown;
    try {
      authorize(identity, rule, resource);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AccessDenied);
    const denied = thrown as AccessDenied;
    expect(denied).toMatchObject({
      kind: 'authorization',
      code: 'FORBIDDEN',
      rule: rule.name,
      check: expected,
    });
    expect(denied.en).toContain(rule.name);
    expect(denied.en).toContain(rule.description.en);
    expect(denied.zh).toContain(rule.description.zh);
    expect(denied.zh).toMatch(/[\u4e00-\u9fff]/);
    if (reason) expect(denied.en).toMatch(reason);
  });

  it('refuses a missing identity as an authentication problem, not a forbidden one', () => {
    expect(can(undefined, applyForTransfer)).toBe(false);
    expect(evaluateAccess(undefined, applyForTransfer)).toMatchObject({ allowed: false, check: 'identity' });
    expect(() => authorize(undefined, applyForTransfer)).toThrow(AuthenticationError);
    try {
      authorize(undefined, applyForTransfer);
    } catch (e) {
      expect(e).toMatchObject({ kind: 'authentication', code: 'IDENTITY_MISSING' });
      expect((e as AuthenticationError).messages.zh).toContain('transfer.apply');
    }
  });

  it('names what was missing in both languages', () => {
    try {
      authorize(sichuanClerk, approveTransfer, transfer);
      throw new Error('should have been refused');
    } catch (e) {
      expect((e as AccessDenied).messages).toEqual({
        zh: '无权“审批转移申请”（transfer.approve）：需要以下角色之一：签批；您的角色：经办',
        en: 'not allowed to approve a transfer application (transfer.approve): needs one of the roles approver; you hold clerk',
      });
    }
  });

  it('refuses when a scope throws or answers something that is not a verdict', () => {
    const throwing = defineRule<Transfer>({
      ...applyForTransfer,
      name: 'transfer.throwing',
      scope: () => {
        throw new Error('boom');
      },
    });
    const odd = defineRule<Transfer>({
      ...applyForTransfer,
      name: 'transfer.odd',
      scope: () => ({ allowed: 'yes' }) as unknown as boolean,
    });
    expect(evaluateAccess(generator, throwing, transfer)).toMatchObject({ allowed: false, check: 'scope' });
    expect(can(generator, odd, transfer)).toBe(false);
  });

  it('returns a frozen rule without duplicates', () => {
    const rule = defineRule({ ...applyForTransfer, name: 'transfer.dup', roles: ['clerk', 'clerk'] });
    expect(rule.roles).toEqual(['clerk']);
    expect(Object.isFrozen(rule)).toBe(true);
  });

  it.each([
    ['name', { name: 'Transfer Approve' }],
    ['description', { description: { zh: '', en: 'x' } }],
    ['agencyKinds', { agencyKinds: [] }],
    ['agencyKinds', { agencyKinds: ['bureau'] }],
    ['roles', { roles: [] }],
    ['roles', { roles: ['superuser'] }],
    ['scope', { scope: 'party' }],
  ])('refuses a definition with a bad %s', (field, change) => {
    const definition = { ...applyForTransfer, ...change } as Parameters<typeof defineRule>[0];
    expect(() => defineRule(definition)).toThrow(RuleDefinitionError);
    try {
      defineRule(definition);
    } catch (e) {
      expect((e as RuleDefinitionError).field).toBe(field);
    }
  });
});

describe('a regional agreement: the secretariat keeps it, member bureaus sign it', () => {
  interface Agreement {
    secretariat: string;
    members: string[];
  }
  const whitelist2026: Agreement = { secretariat: 'cy-sec', members: ['sc-eeb', 'cq-eeb'] };
  const readAgreement = defineRule<Agreement>({
    name: 'agreement.read',
    description: { zh: '查阅区域协议', en: 'read a regional agreement' },
    agencyKinds: ['regional-secretariat', 'provincial-bureau'],
    roles: ['viewer', 'approver'],
    scope: anyOf(
      forAgencyKinds(
        ['regional-secretariat'],
        party((a) => [a.secretariat]),
      ),
      party((a) => a.members),
    ),
  });
  const signAgreement = defineRule<Agreement>({
    name: 'agreement.sign',
    description: { zh: '签署区域协议', en: 'sign a regional agreement' },
    agencyKinds: ['provincial-bureau'],
    roles: ['approver'],
    scope: party((a) => a.members),
  });

  it.each<[string, Identity, AccessRule<Agreement>, Expected]>([
    ['the secretariat reads the agreement it keeps', secretariat, readAgreement, 'allowed'],
    [
      "another region's secretariat does not",
      who('jjj-sec', 'regional-secretariat', '110000', 'viewer'),
      readAgreement,
      'scope',
    ],
    ['a member bureau reads it', chongqing, readAgreement, 'allowed'],
    ['a bureau outside the agreement does not', yunnan, readAgreement, 'scope'],
    ['a municipal bureau is no kind of this rule', chengdu, readAgreement, 'agencyKind'],
    ['a member bureau signs', sichuan, signAgreement, 'allowed'],
    ['the secretariat proposes but never signs', secretariat, signAgreement, 'agencyKind'],
  ])('%s', (...[, identity, rule, expected]) => {
    const decision = evaluateAccess(identity, rule, whitelist2026);
    expect(decision.allowed ? 'allowed' : decision.check).toBe(expected);
  });
});

describe('scopes', () => {
  const at = withinJurisdiction<string[]>((c) => c);

  it.each<[string, string, string[], boolean]>([
    ['a province sees its cities', '510000', ['510100'], true],
    ['a province sees its counties', '510000', ['510104'], true],
    ['a province sees itself', '510000', ['510000'], true],
    ['a province does not see another', '510000', ['500101'], false],
    ['a city sees itself', '510100', ['510100'], true],
    ['a city sees its counties', '510100', ['510104'], true],
    ['a city does not see its province', '510100', ['510000'], false],
    ['a city does not see a sister city', '510100', ['510700'], false],
    ['one matching code of several is enough', '510100', ['500101', '510105'], true],
    ['nothing touched: nothing seen', '510000', [], false],
    ['a malformed record code contains nothing', '510000', ['51', '5100000'], false],
    ['a Chongqing district is within Chongqing', '500000', ['500101'], true],
  ])('withinJurisdiction: %s', (_label, own, codes, expected) => {
    const identity = who('b', 'provincial-bureau', own, 'viewer');
    const verdict = at(identity, codes);
    expect(verdict === true || (typeof verdict === 'object' && verdict.allowed)).toBe(expected);
  });

  it('withinJurisdiction takes JurisdictionCode values too, and refuses a malformed own code', () => {
    const scope = withinJurisdiction<JurisdictionCode[]>((c) => c);
    const codes = [JurisdictionCode.parseOrThrow('510104')];
    expect(scope(chengdu, codes)).toEqual({ allowed: true });
    expect(scope({ ...chengdu, jurisdiction: 'x' }, codes)).toMatchObject({ allowed: false });
  });

  it('party ignores missing agencies', () => {
    const scope = party<(string | undefined)[]>((a) => a);
    expect(scope(generator, [undefined, 'gen-cd-1'])).toEqual({ allowed: true });
    expect(scope(generator, [undefined])).toMatchObject({ allowed: false });
  });

  it('anyOf joins every reason; allOf stops at the first; neither grants when empty', () => {
    const notParty = party<Transfer>(() => []);
    const notHere = withinJurisdiction<Transfer>(() => ['530000']);
    expect(anyOf(notParty, notHere)(chengdu, transfer)).toEqual({
      allowed: false,
      reason: {
        zh: '您的机构不是该记录的当事方；该记录不涉及您的辖区（510100）',
        en: 'your agency is not a party to this record; the record touches no jurisdiction within yours (510100)',
      },
    });
    expect(allOf(party(parties), notHere)(sichuan, transfer)).toMatchObject({
      allowed: false,
      reason: { en: 'the record touches no jurisdiction within yours (510000)' },
    });
    expect(
      allOf(
        party(parties),
        withinJurisdiction((t: Transfer) => [t.from]),
      )(sichuan, transfer),
    ).toEqual({
      allowed: true,
    });
    expect(anyOf<Transfer>()(sichuan, transfer)).toMatchObject({ allowed: false });
    expect(allOf<Transfer>()(sichuan, transfer)).toMatchObject({ allowed: false });
  });

  it('forAgencyKinds keeps an enterprise in the same city out of a bureau scope', () => {
    const scope = forAgencyKinds<Transfer>(
      ['municipal-bureau'],
      withinJurisdiction((t) => [t.from]),
    );
    expect(scope(chengdu, transfer)).toEqual({ allowed: true });
    expect(scope(otherGeneratorSameCity, transfer)).toMatchObject({
      allowed: false,
      reason: { en: 'only a municipal environment bureau reaches records this way' },
    });
  });
});
