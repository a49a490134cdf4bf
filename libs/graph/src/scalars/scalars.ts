import {
  JurisdictionCode,
  LocalDate,
  Money,
  Quantity,
  type BilingualText,
  type Result,
} from '@lianfang/domain-kernel';
import { formatLogPosition, parseLogPosition, type LogPosition } from '@lianfang/eventsourcing';
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { InputError } from '../errors/graph-errors';

/**
 * The platform's scalars. Every one travels as a JSON string, never as Int or Float: JSON numbers lose
 * precision past 2^53 and tempt clients into floating-point arithmetic on money and weights.
 * A parse error is an InputError (INPUT_INVALID) whose rule names the scalar's rule (`Money.format`) and
 * whose message names the scalar.
 */

function refuse(scalar: string, rule: string, messages: BilingualText): never {
  throw new InputError({
    rule: `${scalar}.${rule}`,
    messages: { zh: `${scalar}：${messages.zh}`, en: `${scalar}: ${messages.en}` },
    details: { scalar },
  });
}

/** Literals in a query: only string literals are accepted, so `amount: 100` is refused with a reason. */
function stringLiteral(scalar: string, example: string, ast: ValueNode): string {
  if (ast.kind === Kind.STRING) return ast.value;
  return refuse(scalar, 'type', {
    zh: `须写成字符串，如 "${example}"（不是数字或其他字面量）`,
    en: `write it as a string, e.g. "${example}" (not a number or another literal)`,
  });
}

function stringValue(scalar: string, example: string, value: unknown): string {
  if (typeof value === 'string') return value;
  return refuse(scalar, 'type', {
    zh: `须为字符串，如 "${example}"`,
    en: `must be a string, e.g. "${example}"`,
  });
}

/** A domain-kernel parse failure, renamed after the scalar (the domain names the field, we the scalar). */
function unwrapAs<T>(scalar: string, result: Result<T>): T {
  if (result.ok) return result.value;
  const rule = result.error.rule.split('.').slice(1).join('.') || result.error.rule;
  return refuse(scalar, rule, result.error.message);
}

function defineScalar<T>(config: {
  name: string;
  description: string;
  example: string;
  parse: (text: string) => T;
  serialize: (value: unknown) => string;
}): GraphQLScalarType<T, string> {
  return new GraphQLScalarType<T, string>({
    name: config.name,
    description: config.description,
    serialize: config.serialize,
    parseValue: (value) => config.parse(stringValue(config.name, config.example, value)),
    parseLiteral: (ast) => config.parse(stringLiteral(config.name, config.example, ast)),
  });
}

/** Output values that are not what the resolver promised are a bug: a plain Error, masked in production. */
function cannotSerialize(scalar: string, value: unknown): never {
  throw new TypeError(`${scalar} cannot represent ${typeof value} ${String(value).slice(0, 40)}`);
}

const FEN = /^(0|-?[1-9]\d{0,20})$/;

/**
 * Money: CNY as an integer number of fen (1/100 yuan), written as a decimal string: "1234500" is
 * 12 345.00 yuan; "-500" is −5.00 yuan (adjustments can be negative). No decimals, no exponent, no
 * leading zeros; at most 21 digits.
 */
export const MoneyScalar = defineScalar<Money>({
  name: 'Money',
  description:
    'An amount of CNY as an integer number of fen (1/100 yuan), written as a decimal string: "1234500" is 12 345.00 yuan, "-500" is −5.00 yuan. Never a JSON number. 金额：以“分”为单位的整数，写成字符串。',
  example: '1234500',
  parse(text) {
    if (!FEN.test(text))
      refuse('Money', 'format', {
        zh: '金额须为以分计的整数字符串，如 "1234500"（即 12345.00 元；不带小数点、指数、空格或前导零）',
        en: 'an amount is an integer number of fen as a string, e.g. "1234500" (12 345.00 yuan; no decimal point, exponent, spaces or leading zeros)',
      });
    return Money.fromFen(BigInt(text));
  },
  serialize(value) {
    if (value instanceof Money) return value.toFenString();
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'string' && FEN.test(value)) return value;
    return cannotSerialize('Money', value);
  },
});

/** Kilograms: an exact weight, a decimal string with up to 3 decimals ("1234.5"); output has 3 ("1234.500"). */
export const KilogramsScalar = defineScalar<Quantity>({
  name: 'Kilograms',
  description:
    'An exact weight in kilograms as a decimal string with at most 3 decimals (grams): "1234.5" in, "1234.500" out. Never negative, never a JSON number. 重量：千克，最多3位小数的字符串。',
  example: '1234.5',
  parse: (text) => unwrapAs('Kilograms', Quantity.parse(text, 'Kilograms')),
  serialize(value) {
    if (value instanceof Quantity) return value.toKgString();
    if (typeof value === 'string') {
      const parsed = Quantity.parse(value);
      if (parsed.ok) return parsed.value.toKgString();
    }
    return cannotSerialize('Kilograms', value);
  },
});

const LOG_POSITION = /^\d{1,20}:\d{1,20}$/;

/**
 * LogPosition: where an event stands in a service's event log, as an opaque string. Clients keep it and
 * hand it back (e.g. to wait until a read model has caught up); they never compare or compute with it.
 */
export const LogPositionScalar = defineScalar<LogPosition>({
  name: 'LogPosition',
  description:
    "An opaque position in a service's event log: keep it and hand it back (e.g. to wait for a read model), never compare or compute with it. 事件日志位置（不透明字符串）。",
  example: '734:12',
  parse(text) {
    if (!LOG_POSITION.test(text))
      refuse('LogPosition', 'format', {
        zh: '不是本服务返回的日志位置：请原样传回服务返回的值',
        en: 'not a log position this service returned: hand back the value exactly as received',
      });
    return parseLogPosition(text);
  },
  serialize(value) {
    if (typeof value === 'object' && value !== null && 'commit' in value && 'position' in value)
      return formatLogPosition(value as LogPosition);
    if (typeof value === 'string' && LOG_POSITION.test(value)) return value;
    return cannotSerialize('LogPosition', value);
  },
});

const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** DateTime: an instant, ISO 8601 with an offset ("2026-03-01T09:30:00+08:00" or "…Z"); out in UTC, ms precision. */
export const DateTimeScalar = defineScalar<Date>({
  name: 'DateTime',
  description:
    'An instant in ISO 8601 with an explicit offset, e.g. "2026-03-01T09:30:00+08:00" or "2026-03-01T01:30:00.000Z"; returned in UTC with milliseconds. 时间点：带时区偏移的 ISO 8601。',
  example: '2026-03-01T09:30:00+08:00',
  parse(text) {
    const match = DATE_TIME.exec(text);
    if (!match)
      refuse('DateTime', 'format', {
        zh: '时间须为带时区偏移的 ISO 8601 格式，如 "2026-03-01T09:30:00+08:00"',
        en: 'an instant is ISO 8601 with an offset, e.g. "2026-03-01T09:30:00+08:00"',
      });
    if (!LocalDate.parse(match[1]).ok)
      refuse('DateTime', 'invalid', { zh: '日期不存在', en: 'no such calendar date' });
    const date = new Date(text);
    if (Number.isNaN(date.getTime()))
      refuse('DateTime', 'invalid', { zh: '时间无效', en: 'not a valid instant' });
    return date;
  },
  serialize(value) {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
    if (typeof value === 'string' && DATE_TIME.test(value)) return new Date(value).toISOString();
    return cannotSerialize('DateTime', value);
  },
});

/** LocalDate: a calendar date as read in China, "YYYY-MM-DD", no time, no offset. */
export const LocalDateScalar = defineScalar<LocalDate>({
  name: 'LocalDate',
  description:
    'A calendar date as people in China read it (Asia/Shanghai), "YYYY-MM-DD", without a time or an offset. 日期：YYYY-MM-DD。',
  example: '2026-03-01',
  parse: (text) => unwrapAs('LocalDate', LocalDate.parse(text, 'LocalDate')),
  serialize(value) {
    if (value instanceof LocalDate) return value.toString();
    if (typeof value === 'string' && LocalDate.parse(value).ok) return value;
    return cannotSerialize('LocalDate', value);
  },
});

/** JurisdictionCode: a GB/T 2260 six-digit administrative division code ("510000" Sichuan). */
export const JurisdictionCodeScalar = defineScalar<JurisdictionCode>({
  name: 'JurisdictionCode',
  description:
    'A GB/T 2260 six-digit administrative division code, e.g. "510000" (Sichuan), "510100" (Chengdu). 行政区划代码（6位）。',
  example: '510000',
  parse: (text) => unwrapAs('JurisdictionCode', JurisdictionCode.parse(text, 'JurisdictionCode')),
  serialize(value) {
    if (value instanceof JurisdictionCode) return value.value;
    if (typeof value === 'string' && JurisdictionCode.parse(value).ok) return value;
    return cannotSerialize('JurisdictionCode', value);
  },
});

export const PLATFORM_SCALARS: readonly GraphQLScalarType[] = [
  MoneyScalar,
  KilogramsScalar,
  LogPositionScalar,
  DateTimeScalar,
  LocalDateScalar,
  JurisdictionCodeScalar,
];
