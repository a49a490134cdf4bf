import { createHash } from 'node:crypto';
import type { Identity } from '@lianfang/auth';
import { LocalDate } from '@lianfang/domain-kernel';
import { useSubgraph } from '@lianfang/testing';
import { service } from '../service';

// Agencies of config/directory/demo-region.json (the service's default directory).
const who = (
  agencyId: string,
  agencyKind: Identity['agencyKind'],
  jurisdiction: string,
  roles: Identity['roles'],
): Identity => ({ subject: `${agencyId}.${roles.join('-')}`, agencyId, agencyKind, jurisdiction, roles });

const generator = who('cd-jincheng-auto', 'generator', '510100', ['clerk']);
const otherGenerator = who('cq-liangjiang-chem', 'generator', '500000', ['clerk']);
const sichuanViewer = who('sc-eeb', 'provincial-bureau', '510000', ['viewer']);
const chongqingClerk = who('cq-eeb', 'provincial-bureau', '500000', ['clerk']);
const chongqingApprover = who('cq-eeb', 'provincial-bureau', '500000', ['approver']);
const chengduBureau = who('cd-eeb', 'municipal-bureau', '510100', ['viewer']);
const receiver = who('cq-yuhuan-disposal', 'receiver', '500000', ['viewer']);
/** Bureaus with nothing to do with a Chengdu → Chongqing transfer. */
const yunnanApprover = who('yn-eeb', 'provincial-bureau', '530000', ['approver', 'viewer']);
const deyangBureau = who('dy-eeb', 'municipal-bureau', '510600', ['viewer']);

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const today = LocalDate.ofInstant(new Date());

/** Bytes that are not text: a decoding that went through a string would change them. */
const binary = (head: number[], seed: string) =>
  Buffer.concat([Buffer.from(head), Buffer.from([0x00, 0xff, 0x80, 0x0a, 0x0d, 0xfe]), Buffer.from(seed)]);

const DOCUMENTS = {
  licence: ['LICENCE', 'application/pdf', binary([0x25, 0x50, 0x44, 0x46], '许可证复印件 licence')],
  method: ['METHOD', 'application/pdf', Buffer.from('%PDF-1.7 利用处置方式说明 method')],
  contract: [
    'CONTRACT',
    'image/png',
    binary([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], '合同 contract A'),
  ],
  /** The contract of the second transfer only. */
  otherContract: ['CONTRACT', 'image/jpeg', binary([0xff, 0xd8, 0xff, 0xe0], '合同 contract B')],
  /** Uploaded, never named by any application. */
  unattached: ['LICENCE', 'application/pdf', binary([0x25, 0x50, 0x44, 0x46], 'draft 草稿')],
} as const satisfies Record<string, readonly [string, string, Buffer]>;
type DocumentName = keyof typeof DOCUMENTS;

const UPLOAD = `mutation($kind: TransferAttachmentKind!, $mediaType: String!, $content: String!) {
  uploadTransferAttachment(kind: $kind, mediaType: $mediaType, contentBase64: $content) { sha256 } }`;
const SUBMIT = `mutation($key: String!, $input: SubmitTransferApplicationInput!) {
  submitTransferApplication(idempotencyKey: $key, input: $input) { id attachments { sha256 } } }`;
const DOWNLOAD = `query($id: ID!, $sha256: String!) {
  transferAttachment(transferId: $id, sha256: $sha256) { sha256 size mediaType kind contentBase64 } }`;
const READS = `query($id: ID!) { transferRecordReads(recordId: $id, first: 100) {
  edges { node { subject agencyId recordType recordId operation } } } }`;

type Extensions = Record<string, unknown>;
type Answer = { data?: Record<string, unknown> | null; errors?: { extensions: Extensions }[] };
interface Download {
  sha256: string;
  size: number;
  mediaType: string;
  kind: string;
  contentBase64: string;
}
interface Read {
  subject: string;
  agencyId: string;
  recordType: string;
  recordId: string;
  operation: string;
}

describe('transfer-service: downloading the documents of a transfer', () => {
  const subgraph = useSubgraph(service);
  const post = async (query: string, variables: Record<string, unknown>, identity: Identity) =>
    (await subgraph.post<Record<string, unknown>>(query, { variables, identity })).body as Answer;
  const ok = <T>(body: Answer, field: string): T => {
    expect(body.errors).toBeUndefined();
    return body.data?.[field] as T;
  };
  const refusal = (body: Answer): Extensions => {
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toHaveLength(1);
    // Per request (correlation id) or per environment (stack trace outside production): not the answer.
    const { correlationId: _id, stacktrace: _trace, ...extensions } = body.errors![0].extensions;
    return extensions;
  };
  const download = (id: string, sha256: string, as: Identity) => post(DOWNLOAD, { id, sha256 }, as);
  const attachmentReads = async (id: string, as: Identity) =>
    ok<{ edges: { node: Read }[] }>(await post(READS, { id }, as), 'transferRecordReads')
      .edges.map((e) => e.node)
      .filter((r) => r.operation === 'download');

  const hash = {} as Record<DocumentName, string>;
  /** Chengdu → Chongqing, with licence, method and contract. */
  let transferId = '';
  /** The same generator's second transfer, with another contract. */
  let secondId = '';
  let facilityId = '';

  const submit = async (key: string, attachments: string[]) =>
    ok<{ id: string; attachments: { sha256: string }[] }>(
      await post(
        SUBMIT,
        {
          key,
          input: {
            path: 'LETTER',
            receiverFacilityId: facilityId,
            lines: [{ wasteCode: '900-249-08', quantityKg: '1500' }],
            method: 'R9 废矿物油再生利用 / re-refining',
            window: { from: today.toString(), to: today.plusDays(120).toString() },
            attachments,
          },
        },
        generator,
      ),
      'submitTransferApplication',
    );

  beforeAll(async () => {
    const registered = await post(
      `mutation($input: RegisterFacilityInput!) { registerFacility(idempotencyKey: "attachments-facility", input: $input) { id } }`,
      {
        input: {
          name: { zh: '重庆渝环危险废物处置中心', en: 'Chongqing Yuhuan disposal centre' },
          licenceNumber: '渝危废经第500112009号',
          operatorCreditCode: '91500115MA5YH9P3C1',
          jurisdiction: '500112',
          coordinates: { lat: '29.718', lon: '106.63' },
          licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
          validFrom: '2024-01-01',
          validTo: '2099-12-31',
        },
      },
      chongqingClerk,
    );
    facilityId = ok<{ id: string }>(registered, 'registerFacility').id;

    for (const [name, [kind, mediaType, bytes]] of Object.entries(DOCUMENTS)) {
      const body = await post(UPLOAD, { kind, mediaType, content: bytes.toString('base64') }, generator);
      hash[name as DocumentName] = ok<{ sha256: string }>(body, 'uploadTransferAttachment').sha256;
      expect(hash[name as DocumentName]).toBe(sha256Of(bytes));
    }
    const first = await submit('attachments-1', [hash.licence, hash.method, hash.contract]);
    expect(first.attachments.map((a) => a.sha256)).toEqual([hash.licence, hash.method, hash.contract]);
    transferId = first.id;
    secondId = (await submit('attachments-2', [hash.licence, hash.method, hash.otherContract])).id;
  });

  it('gives each party of the transfer the exact bytes of each document', async () => {
    for (const as of [generator, sichuanViewer, chongqingApprover, chengduBureau, receiver]) {
      for (const name of ['licence', 'method', 'contract'] as const) {
        const [kind, mediaType, bytes] = DOCUMENTS[name];
        const got = ok<Download>(await download(transferId, hash[name], as), 'transferAttachment');
        const content = Buffer.from(got.contentBase64, 'base64');
        expect({ as: as.subject, name, sha256: sha256Of(content) }).toEqual({
          as: as.subject,
          name,
          sha256: hash[name],
        });
        expect(content.equals(bytes)).toBe(true);
        expect(got).toMatchObject({ sha256: hash[name], size: bytes.length, mediaType, kind });
      }
    }
    // A hash as some tools print it (upper case, padded) names the same document.
    const loose = ok<Download>(
      await download(transferId, ` ${hash.contract.toUpperCase()} `, sichuanViewer),
      'transferAttachment',
    );
    expect(loose.sha256).toBe(hash.contract);
    // A document shared by two transfers opens from either.
    const shared = ok<Download>(
      await download(secondId, hash.licence, chongqingApprover),
      'transferAttachment',
    );
    expect(Buffer.from(shared.contentBase64, 'base64').equals(DOCUMENTS.licence[2])).toBe(true);
  });

  it('refuses those who may not see the transfer and documents it does not name, with one answer', async () => {
    const notFound = (sha256: string) => ({
      code: 'transfer.attachment-not-found',
      category: 'BAD_USER_INPUT',
      field: 'sha256',
      rule: 'attachment.of-visible-transfer',
      messages: {
        zh: '您可查阅的该转移申请中没有此附件',
        en: 'no such document on a transfer you may see',
      },
      details: { sha256 },
    });
    const cases: [string, string, string, Identity][] = [
      // Bureaus of an unrelated province and an unrelated city; another generator.
      ['yunnan bureau', transferId, hash.licence, yunnanApprover],
      ['deyang bureau', transferId, hash.contract, deyangBureau],
      ['another generator', transferId, hash.method, otherGenerator],
      // A party of the transfer, asking for what the transfer does not name.
      ['uploaded, never attached', transferId, hash.unattached, generator],
      ['attached to the other transfer', transferId, hash.otherContract, generator],
      ['never uploaded', transferId, 'e'.repeat(64), sichuanViewer],
      // No such transfer: the same answer as one not yours to see.
      ['no such transfer', '00000000-0000-4000-8000-000000000000', hash.licence, generator],
    ];
    for (const [label, id, sha256, as] of cases)
      expect({ label, error: refusal(await download(id, sha256, as)) }).toEqual({
        label,
        error: notFound(sha256),
      });
    // The other transfer's contract is there for whoever may see that transfer.
    ok(await download(secondId, hash.otherContract, generator), 'transferAttachment');

    expect(refusal(await download(transferId, 'not-a-hash', generator))).toMatchObject({
      code: 'INPUT_INVALID',
      field: 'sha256',
      rule: 'attachment.sha256',
      messages: { zh: expect.any(String), en: expect.any(String) },
    });
  });

  it('records each download in the access log, and no refused one', async () => {
    const before = await attachmentReads(transferId, generator);
    ok(await download(transferId, hash.contract, chengduBureau), 'transferAttachment');
    refusal(await download(transferId, hash.contract, yunnanApprover));
    refusal(await download(transferId, hash.unattached, chengduBureau));

    // Both owners (generator and receiver) see the one new read; newest first.
    for (const owner of [generator, receiver]) {
      const after = await attachmentReads(transferId, owner);
      expect(after).toHaveLength(before.length + 1);
      expect(after[0]).toEqual({
        subject: chengduBureau.subject,
        agencyId: 'cd-eeb',
        recordType: 'transfer',
        recordId: transferId,
        operation: 'download',
      });
      expect(after.map((r) => r.agencyId)).not.toContain('yn-eeb');
    }
    // Nobody else learns who read the generator's documents.
    expect(await attachmentReads(transferId, chengduBureau)).toEqual([]);
  });
});
