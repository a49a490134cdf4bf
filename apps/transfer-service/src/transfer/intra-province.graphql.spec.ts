import type { Identity } from '@lianfang/auth';
import { LocalDate } from '@lianfang/domain-kernel';
import { useSubgraph } from '@lianfang/testing';
import { service } from '../service';

const who = (
  agencyId: string,
  agencyKind: Identity['agencyKind'],
  jurisdiction: string,
  roles: Identity['roles'],
) => ({ subject: `${agencyId}.${roles.join('-')}`, agencyId, agencyKind, jurisdiction, roles }) as Identity;
const generator = who('cd-jincheng-auto', 'generator', '510100', ['clerk']);
const sichuanClerk = who('sc-eeb', 'provincial-bureau', '510000', ['clerk']);

const today = LocalDate.ofInstant(new Date());
type Answer = { data?: Record<string, Record<string, unknown>> | null; errors?: unknown[] };

/**
 * INTRA_PROVINCE_LETTER=true: a province that wants the consultation letter within its own borders
 * (Chengdu → Deyang) gets the letter route, and the bureau's next step is to send it.
 */
describe('transfer-service with INTRA_PROVINCE_LETTER=true', () => {
  const subgraph = useSubgraph(service, { env: () => ({ INTRA_PROVINCE_LETTER: 'true' }) });
  const post = async (query: string, variables: Record<string, unknown>, identity: Identity) => {
    const { body } = await subgraph.post<Record<string, Record<string, unknown>>>(query, {
      variables,
      identity,
    });
    expect((body as Answer).errors).toBeUndefined();
    return (body as Answer).data!;
  };

  it('sends an intra-province application by letter', async () => {
    const facility = await post(
      `mutation($input: RegisterFacilityInput!) { registerFacility(idempotencyKey: "dy-facility", input: $input) { id } }`,
      {
        input: {
          name: { zh: '德阳绿源环保危废处置中心', en: 'Deyang Lvyuan disposal centre' },
          licenceNumber: '川危废经第510603001号',
          operatorCreditCode: '91510600MA62A4E769',
          jurisdiction: '510603',
          coordinates: { lat: '31.127', lon: '104.398' },
          licensed: [{ category: 'HW08', annualCapacityTonnes: '3000' }],
          validFrom: '2024-01-01',
          validTo: '2099-12-31',
        },
      },
      sichuanClerk,
    );
    const attachments: string[] = [];
    for (const kind of ['LICENCE', 'METHOD', 'CONTRACT']) {
      const content = Buffer.from(`%PDF-1.7 ${kind.toLowerCase()}`).toString('base64');
      const stored = await post(
        `mutation($kind: TransferAttachmentKind!, $content: String!) {
          uploadTransferAttachment(kind: $kind, mediaType: "application/pdf", contentBase64: $content) { sha256 } }`,
        { kind, content },
        generator,
      );
      attachments.push(stored.uploadTransferAttachment.sha256 as string);
    }
    const submitted = await post(
      `mutation($input: SubmitTransferApplicationInput!) {
        submitTransferApplication(idempotencyKey: "intra-1", input: $input) {
          route exportingJurisdiction receivingJurisdiction } }`,
      {
        input: {
          path: 'LETTER',
          receiverFacilityId: facility.registerFacility.id,
          lines: [{ wasteCode: '900-249-08', quantityKg: '800' }],
          method: 'R9 废矿物油再生利用 / re-refining',
          window: { from: today.toString(), to: today.plusDays(90).toString() },
          attachments,
        },
      },
      generator,
    );
    // Within Sichuan, and still by letter: the configuration, not the default (which skips it).
    expect(submitted.submitTransferApplication).toEqual({
      route: 'LETTER',
      exportingJurisdiction: '510000',
      receivingJurisdiction: '510000',
    });
  });
});
