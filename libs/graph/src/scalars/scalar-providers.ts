import { Scalar, type CustomScalar } from '@nestjs/graphql';
import { JurisdictionCode, LocalDate, Money, Quantity } from '@lianfang/domain-kernel';
import type { GraphQLScalarType, ValueNode } from 'graphql';
import {
  DateTimeScalar,
  JurisdictionCodeScalar,
  KilogramsScalar,
  LocalDateScalar,
  LogPositionScalar,
  MoneyScalar,
} from './scalars';

/**
 * What a code-first field names to get the LogPosition scalar: `@Field(() => LogPositionRef)`. A log
 * position is an interface, so no class of the domain can stand for it.
 */
export class LogPositionRef {
  private constructor() {}
}

/**
 * The scalars as Nest providers (`@Scalar`): Nest's federation build puts every provided scalar in the
 * schema, maps the domain classes to them (`@Field(() => Money) fee!: Money` is a Money field) and hands
 * their parse/serialize to the schema @apollo/subgraph rebuilds. Name the class in `@Field`, never the
 * GraphQLScalarType object itself: that would be a second type with the same name.
 */
function provider(scalar: GraphQLScalarType, type: () => unknown) {
  @Scalar(scalar.name, type)
  class PlatformScalar implements CustomScalar<string, unknown> {
    description = scalar.description ?? undefined;
    parseValue(value: unknown) {
      return scalar.parseValue(value);
    }
    serialize(value: unknown) {
      return scalar.serialize(value) as string;
    }
    parseLiteral(ast: ValueNode) {
      return scalar.parseLiteral(ast, undefined);
    }
  }
  Object.defineProperty(PlatformScalar, 'name', { value: `${scalar.name}ScalarProvider` });
  return PlatformScalar;
}

export const PLATFORM_SCALAR_PROVIDERS = [
  provider(MoneyScalar, () => Money),
  provider(KilogramsScalar, () => Quantity),
  provider(LogPositionScalar, () => LogPositionRef),
  provider(DateTimeScalar, () => Date),
  provider(LocalDateScalar, () => LocalDate),
  provider(JurisdictionCodeScalar, () => JurisdictionCode),
];
