import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsIn,
  IsString,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  IsCreditCode,
  IsJurisdictionCode,
  IsKilograms,
  IsLocalDate,
  IsOnOrAfter,
  IsProvincialJurisdiction,
  IsWasteCode,
  IsWithinTwelveMonthsOf,
} from './validators';

/** One approved waste: code, the approved weight, and how the receiver utilises or disposes of it. */
export class ApprovedWasteLineV1 {
  @IsWasteCode()
  wasteCode!: string;

  /** Approved weight in kilograms (3 decimals): the sum of manifest weights never exceeds it. */
  @IsKilograms({ positive: true })
  quantityKg!: string;

  /** The utilisation or disposal method the approval names (Art 24), e.g. 'R9 re-refining'. */
  @IsString()
  @MinLength(1)
  method!: string;
}

// intra-province: approved without a consultation letter because both ends lie in one province (configurable).
export const TRANSFER_PATHS = ['letter', 'whitelist', 'intra-province'] as const;
export type TransferPath = (typeof TRANSFER_PATHS)[number];

/** Departments told of an approval (Art 26): environment and transport of the provinces concerned. */
export class NotifiedAgencyV1 {
  @IsString()
  @MinLength(1)
  agencyId!: string;

  @IsJurisdictionCode()
  jurisdiction!: string;

  @IsIn(['environment', 'transport'])
  department!: 'environment' | 'transport';
}

/** The exporting bureau approved a cross-province transfer (by consultation letter or whitelist). */
export class TransferApprovedV1 {
  @IsString()
  @MinLength(1)
  transferId!: string;

  @IsCreditCode()
  generatorCreditCode!: string;

  @IsProvincialJurisdiction()
  exportingJurisdiction!: string;

  @IsProvincialJurisdiction()
  receivingJurisdiction!: string;

  @IsString()
  @MinLength(1)
  receiverFacilityId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => ApprovedWasteLineV1)
  wasteLines!: ApprovedWasteLineV1[];

  @IsLocalDate()
  validFrom!: string;

  /** Inclusive; at most 12 months after validFrom (Art 28). */
  @IsLocalDate()
  @IsOnOrAfter('validFrom')
  @IsWithinTwelveMonthsOf('validFrom')
  validTo!: string;

  @IsIn(TRANSFER_PATHS)
  path!: TransferPath;

  /** On the whitelist path: the agreement and the entry whose remaining quantity this uses. */
  @ValidateIf((t: TransferApprovedV1) => t.path === 'whitelist')
  @IsString()
  @MinLength(1)
  agreementId?: string;

  @ValidateIf((t: TransferApprovedV1) => t.path === 'whitelist')
  @IsString()
  @MinLength(1)
  whitelistEntryId?: string;

  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => NotifiedAgencyV1)
  notifiedAgencies!: NotifiedAgencyV1[];
}
