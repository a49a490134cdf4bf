import { Inject, Injectable } from '@nestjs/common';
import type { AgencyDirectory, DirectoryAgency, Identity } from '@lianfang/auth';
import { JurisdictionCode, LocalDate, WasteCode } from '@lianfang/domain-kernel';
import { DomainError, fold } from '@lianfang/eventsourcing';
import { readWholeStream } from '@lianfang/graph';
import { AGENCY_DIRECTORY, PLATFORM, type Platform } from '@lianfang/runtime';
import { AgreementTerms } from '../agreement/agreement.terms';
import {
  facilityDecider,
  facilityStream,
  isLicensedFor,
  type FacilityEvent,
  type FacilityState,
} from '../facility/decider';
import type {
  FilingLine,
  Generator,
  ReceiverSite,
  RequestedWindow,
  SubmitApplicationData,
  SubmitFilingData,
  WasteLine,
} from './decider';
import { TransferAttachments } from './transfer.attachments';

/** An application as the generator types it; the rest comes from the directory and the registers. */
export interface ApplicationInput {
  readonly path: 'letter' | 'whitelist';
  readonly receiverFacilityId: string;
  readonly lines: readonly WasteLine[];
  readonly method: string;
  readonly window: RequestedWindow;
  /** SHA-256 of uploaded attachments. */
  readonly attachments: readonly string[];
  readonly whitelistEntryId?: string | null;
}

export interface FilingInput {
  readonly receiverFacilityId: string;
  /** Needed only when the facility is not in the register (general waste facilities often are not). */
  readonly receivingCity?: string | null;
  readonly lines: readonly FilingLine[];
  readonly window: RequestedWindow;
  readonly attachments: readonly string[];
}

const refuse = (
  code: string,
  field: string,
  zh: string,
  en: string,
  details?: Readonly<Record<string, unknown>>,
) =>
  new DomainError({ code: `transfer.${code}`, field, message: { zh, en }, ...(details ? { details } : {}) });

/**
 * Turns what a generator types into the facts an application carries: who it is (directory), where the
 * receiving facility is, until when its licence runs and who operates it (facility register), which
 * documents it attaches (attachment store) and which whitelist entry it uses (adopted agreements).
 */
@Injectable()
export class TransferIntake {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(TransferAttachments) private readonly attachments: TransferAttachments,
    @Inject(AgreementTerms) private readonly terms: AgreementTerms,
  ) {}

  async application(
    identity: Identity,
    transferId: string,
    input: ApplicationInput,
    now: Date,
  ): Promise<SubmitApplicationData> {
    const { generator, province } = this.generator(identity);
    const facility = await this.facility(input.receiverFacilityId);
    if (facility.status === 'unregistered')
      throw refuse(
        'receiver-unknown',
        'receiverFacilityId',
        '接受单位不在持证设施名录中',
        'the receiving facility is not in the register of licensed facilities',
        { facilityId: input.receiverFacilityId },
      );
    if (facility.status !== 'active')
      throw refuse(
        'receiver-not-active',
        'receiverFacilityId',
        '接受单位已被暂停或吊销经营许可，不能接受新的转移',
        'the receiving facility is suspended or revoked: it takes no new transfers',
        { facilityId: facility.facilityId, status: facility.status },
      );
    const profile = facility.profile;
    // Art 22: the receiver's licence must cover each waste applied for.
    input.lines.forEach((line, i) => {
      const code = WasteCode.parse(line?.wasteCode ?? '', `lines[${i}].wasteCode`);
      if (code.ok && !isLicensedFor(profile, code.value))
        throw refuse(
          'receiver-not-licensed',
          `lines[${i}].wasteCode`,
          '接受单位的经营许可证不包括该危险废物',
          "the receiving facility's licence does not cover this waste",
          { wasteCode: code.value.value, facilityId: facility.facilityId },
        );
    });
    const receiving = JurisdictionCode.parseOrThrow(profile.jurisdiction).provinceCode.value;
    const attachments = await this.attachments.resolve(input.attachments ?? []);

    let whitelist: SubmitApplicationData['whitelist'];
    const entryId = input.whitelistEntryId?.trim();
    if (input.path === 'whitelist') {
      if (!entryId)
        throw refuse(
          'whitelist-entry-required',
          'whitelistEntryId',
          '白名单路径须注明白名单条目',
          'the whitelist path names its whitelist entry',
        );
      const year = LocalDate.ofInstant(now).year;
      const found = await this.terms.whitelistEntry(entryId, year);
      if (!found)
        throw refuse(
          'whitelist-entry-unknown',
          'whitelistEntryId',
          `${year} 年已通过的区域协议中没有该白名单条目`,
          `no adopted agreement has this whitelist entry for ${year}`,
          { entryId, year },
        );
      const { entry } = found;
      const mismatch =
        entry.exportingMember !== province
          ? 'exportingMember'
          : entry.receivingFacilityId !== facility.facilityId
            ? 'receivingFacilityId'
            : input.lines.find((l) => {
                  const code = WasteCode.parse(l?.wasteCode ?? '');
                  return !code.ok || !entry.wasteCodes.includes(code.value.value);
                })
              ? 'wasteCodes'
              : undefined;
      if (mismatch)
        throw refuse(
          'whitelist-entry-mismatch',
          'whitelistEntryId',
          '该白名单条目不适用于本申请（移出地、接受单位或危险废物代码不符）',
          'the whitelist entry does not cover this application (exporting member, facility or waste codes)',
          { entryId, clause: mismatch },
        );
      whitelist = { entryId, remainingTonnes: found.remainingTonnes, agreementId: found.agreementId };
    } else if (entryId) {
      throw refuse(
        'whitelist-entry-unexpected',
        'whitelistEntryId',
        '非白名单路径不应注明白名单条目',
        'only the whitelist path names a whitelist entry',
      );
    }

    return {
      transferId,
      generator,
      exportingJurisdiction: province,
      receivingJurisdiction: receiving,
      receiver: {
        facilityId: facility.facilityId,
        licenceValidUntil: profile.validTo,
        ...this.site(profile.jurisdiction, profile.operatorCreditCode),
      },
      lines: (input.lines ?? []).map((l) => ({ wasteCode: l.wasteCode, quantityKg: l.quantityKg })),
      method: input.method,
      window: { from: input.window.from, to: input.window.to },
      attachments,
      path: input.path,
      ...(whitelist ? { whitelist } : {}),
    };
  }

  async filing(identity: Identity, transferId: string, input: FilingInput): Promise<SubmitFilingData> {
    const { generator } = this.generator(identity);
    const facility = await this.facility(input.receiverFacilityId);
    // General waste facilities are often outside the hazardous-waste register: then the city is typed.
    const registered = facility.status === 'unregistered' ? undefined : facility.profile;
    const place = registered?.jurisdiction ?? input.receivingCity?.trim();
    if (!place)
      throw refuse(
        'receiving-city-required',
        'receivingCity',
        '接受单位不在设施名录中：须注明接受地的地市级行政区划代码',
        "the facility is not in the register: name the receiving city's code",
      );
    const city = JurisdictionCode.parse(place, 'receivingCity');
    const receivingCity = city.ok ? city.value.cityCode.value : place;
    return {
      transferId,
      generator,
      exportingJurisdiction: generator.jurisdiction ?? '',
      receivingCity,
      receiver: {
        facilityId: input.receiverFacilityId,
        ...(registered
          ? this.site(registered.jurisdiction, registered.operatorCreditCode)
          : city.ok
            ? { jurisdiction: city.value.value }
            : {}),
      },
      lines: (input.lines ?? []).map((l) => ({ wasteClass: l.wasteClass, quantityKg: l.quantityKg })),
      window: { from: input.window.from, to: input.window.to },
      attachments: await this.attachments.resolve(input.attachments ?? []),
    };
  }

  /** The caller's agency as the applicant: its credit code and seat come from the directory. */
  private generator(identity: Identity): { generator: Generator; province: string } {
    const agency: DirectoryAgency | undefined = this.directory.agency(identity.agencyId);
    if (!agency?.creditCode)
      throw refuse(
        'generator-credit-code-unknown',
        'generator.creditCode',
        '机构名录中没有本单位的统一社会信用代码',
        "the agency directory has no credit code for the caller's agency",
        { agencyId: identity.agencyId },
      );
    const seat = JurisdictionCode.parseOrThrow(agency.jurisdiction);
    return {
      generator: { agencyId: agency.id, creditCode: agency.creditCode, jurisdiction: seat.value },
      province: seat.provinceCode.value,
    };
  }

  private site(jurisdiction: string, operatorCreditCode: string): ReceiverSite {
    const operator = this.directory.agencies.find(
      (a) => a.kind === 'receiver' && a.creditCode === operatorCreditCode,
    );
    return { jurisdiction, ...(operator ? { operatorAgencyId: operator.id } : {}) };
  }

  private async facility(facilityId: string): Promise<FacilityState> {
    const id = typeof facilityId === 'string' ? facilityId.trim() : '';
    if (!id) return facilityDecider.initialState();
    const events = await readWholeStream(this.platform.store, facilityStream(id));
    return fold(
      facilityDecider,
      events.map((e) => ({ type: e.type, data: e.data, metadata: e.metadata }) as FacilityEvent),
    );
  }
}
