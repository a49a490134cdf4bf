import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/** The services that publish integration events: one Kafka topic each. */
export const SOURCES = ['transfer', 'compensation', 'enforcement', 'gateway'] as const;
export type Source = (typeof SOURCES)[number];

export const topicFor = (source: Source | string): string => `lianfang.${source}.v1`;
export const deadLetterTopicFor = (topic: string): string => `${topic}.dlq`;

export class EnvelopeActor {
  @IsIn(['user', 'system'])
  kind!: 'user' | 'system';

  @ValidateIf((a: EnvelopeActor) => a.kind === 'user')
  @IsString()
  @MinLength(1)
  userId?: string;

  @ValidateIf((a: EnvelopeActor) => a.kind === 'user')
  @IsString()
  @MinLength(1)
  agencyId?: string;

  @ValidateIf((a: EnvelopeActor) => a.kind === 'user')
  @Matches(/^\d{6}$/)
  jurisdiction?: string;

  @ValidateIf((a: EnvelopeActor) => a.kind === 'system')
  @IsString()
  @MinLength(1)
  name?: string;
}

/**
 * What travels on Kafka: the published language between services. JSON-safe by construction:
 * 64-bit numbers (positions, fen, grams) are decimal strings, times are ISO-8601 strings.
 */
export class IntegrationEventEnvelope<Data = Record<string, unknown>> {
  @IsUUID()
  eventId!: string;

  @IsString()
  @Matches(/^[A-Z][A-Za-z]+$/)
  type!: string;

  @IsInt()
  @Min(1)
  schemaVersion!: number;

  @IsIn(SOURCES)
  source!: Source;

  @IsString()
  @MinLength(1)
  streamId!: string;

  @Matches(/^\d+$/)
  streamPosition!: string;

  @IsISO8601({ strict: true })
  occurredAt!: string;

  @IsString()
  @MinLength(1)
  correlationId!: string;

  @IsOptional()
  @IsString()
  causationId?: string | null;

  @ValidateNested()
  @Type(() => EnvelopeActor)
  actor!: EnvelopeActor;

  @IsObject()
  data!: Data;
}
