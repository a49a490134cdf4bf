import {
  applyDecorators,
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { authorize, type AccessRule } from '../rules/rule';
import { requestContextOf } from './current-identity';

/** Metadata key under which `@Allow` keeps a resolver's rule. */
export const ACCESS_RULE = 'lianfang:access-rule';

/**
 * Lets a resolver run only for the agency kinds and roles of `rule` (checked before the handler, without
 * the record). The record's scope is checked by the handler with `authorize(identity, rule, record)`.
 * On a class, it is the rule of every resolver method that has none of its own.
 */
export function Allow(rule: AccessRule<never>): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(ACCESS_RULE, rule), UseGuards(RuleGuard));
}

@Injectable()
export class RuleGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  /** Throws `AuthenticationError` (no identity) or `AccessDenied`; true when the rule allows the call. */
  canActivate(context: ExecutionContext): boolean {
    const rule = this.reflector.getAllAndOverride<AccessRule<never> | undefined>(ACCESS_RULE, [
      context.getHandler(),
      context.getClass(),
    ]);
    // Installed globally, the guard leaves resolvers without a rule alone (health, `_service`).
    if (!rule) return true;
    authorize(requestContextOf(context)?.identity, rule);
    return true;
  }
}
