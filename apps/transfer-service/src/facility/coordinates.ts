import { DomainError } from '@lianfang/eventsourcing';

/** A point in WGS84 (GPS), kept as decimal strings so the stored value is exactly what was entered. */
export interface Coordinates {
  readonly lat: string;
  readonly lon: string;
}

/** 8 decimals of a degree is about a millimetre: anything finer is a unit or typing mistake. */
const MAX_DECIMALS = 8;
const DEGREE_DECIMAL = /^(-?)(\d{1,3})(?:\.(\d+))?$/;

const AXES = {
  lat: { limit: 90n, zh: '纬度', en: 'latitude', range: '-90 … 90' },
  lon: { limit: 180n, zh: '经度', en: 'longitude', range: '-180 … 180' },
} as const;

function refuse(rule: string, field: string, en: string, zh: string, value: unknown): DomainError {
  return new DomainError({ code: `facility.${rule}`, field, message: { en, zh }, details: { value } });
}

/**
 * One coordinate in degrees: compared exactly (scaled integers, no float) against its bounds and
 * written canonically ('30.5700' → '30.57', '-0' → '0') so an unchanged point is not a change.
 */
export function parseDegrees(input: unknown, axis: keyof typeof AXES, field: string): string {
  const a = AXES[axis];
  const match = typeof input === 'string' ? DEGREE_DECIMAL.exec(input) : null;
  if (match === null) {
    throw refuse(
      'coordinate-format',
      field,
      `the ${a.en} is a decimal number of degrees (WGS84), e.g. 30.5728`,
      `${a.zh}须为以度计的十进制数（WGS84），如 30.5728`,
      input,
    );
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > MAX_DECIMALS) {
    throw refuse(
      'coordinate-precision',
      field,
      `the ${a.en} has at most ${MAX_DECIMALS} decimals`,
      `${a.zh}最多保留${MAX_DECIMALS}位小数`,
      input,
    );
  }
  const scaled = BigInt(whole + fraction.padEnd(MAX_DECIMALS, '0'));
  if (scaled > a.limit * 10n ** BigInt(MAX_DECIMALS)) {
    throw refuse(
      'coordinate-range',
      field,
      `the ${a.en} must lie within ${a.range} degrees`,
      `${a.zh}须在 ${a.range} 度之间`,
      input,
    );
  }
  const trimmedFraction = fraction.replace(/0+$/, '');
  const magnitude = `${BigInt(whole).toString()}${trimmedFraction ? `.${trimmedFraction}` : ''}`;
  return sign === '-' && scaled !== 0n ? `-${magnitude}` : magnitude;
}

export function parseCoordinates(input: unknown, field = 'coordinates'): Coordinates {
  const value = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    lat: parseDegrees(value['lat'], 'lat', `${field}.lat`),
    lon: parseDegrees(value['lon'], 'lon', `${field}.lon`),
  };
}
