import { DomainValidationError, fail, isValidationError, ok, requireString, unwrap } from './validation';

describe('validation', () => {
  it('unwrap returns the value of a success', () => {
    expect(unwrap(ok(42))).toBe(42);
  });

  it('unwrap throws a DomainValidationError carrying the ValidationError', () => {
    const failure = fail('weight', 'quantity.format', { zh: '格式错误', en: 'bad format' }, 'x');
    let thrown: unknown;
    try {
      unwrap(failure);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DomainValidationError);
    expect(thrown).toBeInstanceOf(Error);
    const error = (thrown as DomainValidationError).error;
    expect(error).toEqual({
      field: 'weight',
      rule: 'quantity.format',
      message: { zh: '格式错误', en: 'bad format' },
      value: 'x',
    });
    expect((thrown as Error).message).toContain('quantity.format');
    expect((thrown as Error).message).toContain('weight');
    expect((thrown as Error).name).toBe('DomainValidationError');
  });

  it('keeps errors JSON-serialisable: a bigint value becomes a string', () => {
    const failure = fail('amount', 'money.type', { zh: '错', en: 'wrong' }, 12n);
    expect(failure.error.value).toBe('12');
    expect(() => JSON.stringify(failure)).not.toThrow();
  });

  it('omits value when none is given', () => {
    expect('value' in fail('f', 'r', { zh: '', en: '' }).error).toBe(false);
  });

  it('recognises a ValidationError shape', () => {
    expect(isValidationError(fail('f', 'r', { zh: 'z', en: 'e' }).error)).toBe(true);
    expect(isValidationError({ field: 'f', rule: 'r', message: 'text' })).toBe(false);
    expect(isValidationError(null)).toBe(false);
  });

  it('requireString refuses non-strings with a <prefix>.type rule', () => {
    expect(requireString('x', 'f', 'p')).toBeUndefined();
    expect(requireString(5, 'f', 'p')?.error).toMatchObject({ field: 'f', rule: 'p.type', value: 5 });
  });
});
