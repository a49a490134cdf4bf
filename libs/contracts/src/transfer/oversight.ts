import { IsIn, IsString, Matches, MinLength } from 'class-validator';
import { IsJurisdictionCode, IsLocalDate } from './validators';

export const DEADLINE_RECORD_TYPES = ['transfer', 'manifest', 'agreement', 'facility'] as const;
export type DeadlineRecordType = (typeof DEADLINE_RECORD_TYPES)[number];

/**
 * A statutory deadline passed with the step not done. Never consent (domain rule 7): it is an overdue
 * item on the responsible agency's worklist and an escalation to the regional secretariat.
 */
export class DeadlineMissedV1 {
  @IsIn(DEADLINE_RECORD_TYPES)
  recordType!: DeadlineRecordType;

  @IsString()
  @MinLength(1)
  recordId!: string;

  /** The workflow step in kebab case, e.g. 'review', 'reply', 'decision', 'receipt-confirmation'. */
  @Matches(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/)
  step!: string;

  @IsJurisdictionCode()
  responsibleJurisdiction!: string;

  @IsString()
  @MinLength(1)
  responsibleAgencyId!: string;

  /** The last working day of the period; the deadline ended at 24:00 of it (Asia/Shanghai). */
  @IsLocalDate()
  dueDate!: string;
}

/** A facility may take no new manifests from this date; its open approvals go on the bureaus' worklists. */
export class FacilitySuspendedV1 {
  @IsString()
  @MinLength(1)
  facilityId!: string;

  @IsJurisdictionCode()
  jurisdiction!: string;

  @IsString()
  @MinLength(1)
  reason!: string;

  @IsLocalDate()
  fromDate!: string;
}
