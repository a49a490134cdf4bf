import { BadRequestException, ForbiddenException } from '@nestjs/common';
import { AccessDenied, AuthenticationError } from '@lianfang/auth';
import { JurisdictionCode } from '@lianfang/domain-kernel';
import { IsInt, Min, validate } from 'class-validator';
import { GraphQLError } from 'graphql';
import { describeError } from './describe-error';
import { createErrorFormatter } from './format-error';

class Amount {
  @IsInt()
  @Min(1)
  fen!: number;
}

describe('describeError', () => {
  it('reads a domain-kernel validation failure, without echoing the value', () => {
    let thrown: unknown;
    try {
      JurisdictionCode.parseOrThrow('12', 'origin');
    } catch (e) {
      thrown = e;
    }
    const described = describeError(new GraphQLError('wrapped', { originalError: thrown as Error }));
    expect(described).toEqual({
      code: 'INPUT_INVALID',
      category: 'BAD_USER_INPUT',
      field: 'origin',
      rule: 'jurisdiction.format',
      messages: { zh: expect.any(String), en: expect.any(String) },
    });
  });

  it('reads class-validator errors thrown as is or inside a BadRequestException', async () => {
    const errors = await validate(Object.assign(new Amount(), { fen: 0 }));
    expect(describeError(errors)).toMatchObject({
      field: 'fen',
      rule: 'min',
      details: { failures: [{ field: 'fen', rule: 'min' }] },
    });
    expect(describeError(new BadRequestException(errors))).toMatchObject({ field: 'fen', rule: 'min' });
  });

  it('types Nest HTTP exceptions by status', () => {
    expect(describeError(new ForbiddenException('no'))).toMatchObject({
      code: 'FORBIDDEN',
      category: 'FORBIDDEN',
    });
  });

  it('names the access rule that refused and the check that failed, and an authentication failure by its code', () => {
    const denied = new AccessDenied('transfer.approve', 'role', '需要审批人角色', 'needs the approver role');
    expect(describeError(denied)).toMatchObject({
      code: 'FORBIDDEN',
      category: 'FORBIDDEN',
      rule: 'transfer.approve',
      details: { check: 'role' },
      messages: { zh: '需要审批人角色', en: 'needs the approver role' },
    });
    const missing = new AuthenticationError('TOKEN_MISSING', '缺少令牌', 'no token');
    expect(describeError(missing)).toMatchObject({
      code: 'TOKEN_MISSING',
      category: 'UNAUTHENTICATED',
      rule: 'TOKEN_MISSING',
    });
  });

  it('leaves unknown errors undescribed', () => {
    expect(describeError(new Error('boom'))).toBeUndefined();
    expect(describeError(new GraphQLError('x', { originalError: new TypeError('y') }))).toBeUndefined();
  });
});

describe('createErrorFormatter', () => {
  it('keeps GraphQL request errors, bilingual', () => {
    const format = createErrorFormatter({ production: true });
    const formatted = format(
      {
        message: 'Cannot query field "x" on type "Query".',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
      new GraphQLError('Cannot query field "x" on type "Query".'),
    );
    expect(formatted).toMatchObject({
      message: 'Cannot query field "x" on type "Query".',
      extensions: {
        code: 'GRAPHQL_VALIDATION_FAILED',
        category: 'BAD_USER_INPUT',
        messages: { zh: expect.stringContaining('GraphQL') },
      },
    });
  });

  it('masks an unexpected error even under a request-error code, in production', () => {
    const format = createErrorFormatter({ production: true });
    const formatted = format(
      { message: 'secret', extensions: { code: 'BAD_USER_INPUT', stacktrace: ['at x'] } },
      new GraphQLError('secret', { originalError: new TypeError('secret') }),
    );
    expect(formatted.message).toContain('internal error');
    expect(formatted.extensions).not.toHaveProperty('stacktrace');
  });
});
