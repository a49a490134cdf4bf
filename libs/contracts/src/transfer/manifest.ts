import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsString,
  MinLength,
  ValidateBy,
  type ValidationArguments,
} from 'class-validator';
import {
  IsCreditCode,
  IsInstant,
  IsJurisdictionCode,
  IsKilograms,
  IsLocalDate,
  IsManifestNumber,
  IsProvincialJurisdiction,
  IsWasteClass,
} from './validators';

/** The receiver confirmed receipt: the accepted (weighed) weight replaces the declared one. */
export class ManifestReceivedV1 {
  /** 14 digits, Art 15: year, province, city, serial. */
  @IsManifestNumber()
  manifestNumber!: string;

  @IsKilograms()
  acceptedKg!: string;

  /** 'hazardous:900-249-08', or 'general-industrial', 'construction', 'municipal'. */
  @IsWasteClass()
  wasteClass!: string;

  @IsJurisdictionCode()
  fromJurisdiction!: string;

  @IsJurisdictionCode()
  toJurisdiction!: string;

  @IsString()
  @MinLength(1)
  facilityId!: string;

  @IsLocalDate()
  receiptDate!: string;

  /** The approval (or filing) the manifest ran under. */
  @IsString()
  @MinLength(1)
  transferId!: string;
}

/** A receipt corrected after the fact: a new fact, never an edit of ManifestReceived. */
export class ManifestReceiptCorrectedV1 {
  @IsManifestNumber()
  manifestNumber!: string;

  @IsKilograms()
  previousAcceptedKg!: string;

  @IsKilograms()
  @ValidateBy({
    name: 'differsFrom',
    constraints: ['previousAcceptedKg'],
    validator: {
      // Compared as written: both are canonical 3-decimal strings, so equal weights are equal strings.
      validate: (value: unknown, args?: ValidationArguments) =>
        value !== (args?.object as ManifestReceiptCorrectedV1 | undefined)?.previousAcceptedKg,
      defaultMessage: () =>
        'correctedAcceptedKg: a correction must change the accepted weight / 更正后的接收重量须与原值不同',
    },
  })
  correctedAcceptedKg!: string;

  @IsString()
  @MinLength(1)
  reason!: string;

  @IsLocalDate()
  correctionDate!: string;
}

export const DISCREPANCY_KINDS = ['weight', 'name', 'form', 'packaging', 'characteristics'] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];

const isWeight = (d: object): boolean => (d as ManifestDiscrepancyFoundV1).kind === 'weight';

/**
 * What the receiver found differs from what the generator declared. For a weight, `declared` and
 * `accepted` are kilograms (3 decimals); otherwise they are the two descriptions as recorded.
 */
export class ManifestDiscrepancyFoundV1 {
  @IsManifestNumber()
  manifestNumber!: string;

  @IsIn(DISCREPANCY_KINDS)
  kind!: DiscrepancyKind;

  @IsString()
  @MinLength(1)
  @IsKilograms({ when: isWeight })
  declared!: string;

  @IsString()
  @MinLength(1)
  @IsKilograms({ when: isWeight })
  accepted!: string;

  @IsJurisdictionCode()
  fromJurisdiction!: string;

  @IsJurisdictionCode()
  toJurisdiction!: string;
}

/**
 * The receiving province's bureau reviewed a manifest's discrepancies (Art 17) and referred them to
 * enforcement: joint enforcement opens a case from it. A review with no further action is not published.
 */
export class ManifestDiscrepancyReferredV1 {
  @IsManifestNumber()
  manifestNumber!: string;

  /** The approval (or filing) the manifest ran under. */
  @IsString()
  @MinLength(1)
  transferId!: string;

  // The parties the case is about, by unified social credit code, as the manifest was opened.
  @IsCreditCode()
  generatorCreditCode!: string;

  /** The operator of the receiving facility, which found the discrepancies. */
  @IsCreditCode()
  receiverCreditCode!: string;

  /** The carrier the generator engaged on opening (every manifest names one); a later handover does not change it. */
  @IsCreditCode()
  carrierCreditCode!: string;

  /** The discrepancies open at the review, referred together (each found earlier as ManifestDiscrepancyFound). */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(DISCREPANCY_KINDS, { each: true })
  kinds!: DiscrepancyKind[];

  /** The bureau's reasons, as written. */
  @IsString()
  @MinLength(1)
  note!: string;

  @IsJurisdictionCode()
  fromJurisdiction!: string;

  @IsJurisdictionCode()
  toJurisdiction!: string;

  /** The receiving province (XX0000): the discrepancies are reported to its bureau, which reviewed them. */
  @IsProvincialJurisdiction()
  reportTo!: string;

  /** The reviewing agency's id (a system actor's name when no person acted). */
  @IsString()
  @MinLength(1)
  reviewedBy!: string;

  @IsInstant()
  reviewedAt!: string;
}

export const OVERDUE_REASONS = ['transit', 'receipt'] as const;
export type OverdueReason = (typeof OVERDUE_REASONS)[number];

/** In transit longer than the agreement allows, or delivered and not confirmed in 5 working days. */
export class ManifestOverdueV1 {
  @IsManifestNumber()
  manifestNumber!: string;

  @IsIn(OVERDUE_REASONS)
  reason!: OverdueReason;

  /** The instant the limit passed (24:00 Asia/Shanghai of the last working day for a receipt). */
  @IsInstant()
  dueAt!: string;

  @IsJurisdictionCode()
  fromJurisdiction!: string;

  @IsJurisdictionCode()
  toJurisdiction!: string;
}
