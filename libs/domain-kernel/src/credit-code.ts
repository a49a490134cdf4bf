import { type Result, fail, ok, requireString, unwrap } from './validation';

/** GB 32100-2015 character set: digits and capitals without I, O, S, V, Z (easily misread). */
export const CREDIT_CODE_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** Weight of position i is 3^i mod 31, as the standard tabulates it. */
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

const BODY_LENGTH = 17;

function checkCharacterOf(body: string): string {
  let sum = 0;
  for (let i = 0; i < BODY_LENGTH; i++) sum += CREDIT_CODE_CHARSET.indexOf(body[i]) * WEIGHTS[i];
  // 31 − (Σ mod 31), where a result of 31 is written as 0.
  return CREDIT_CODE_CHARSET[(31 - (sum % 31)) % 31];
}

function invalidCharacters(code: string): boolean {
  for (const ch of code) if (!CREDIT_CODE_CHARSET.includes(ch)) return true;
  return false;
}

/** The unified social credit code (统一社会信用代码) that identifies an organisation. */
export class CreditCode {
  private constructor(readonly value: string) {
    Object.freeze(this);
  }

  /** 18 characters with a valid check character; lowercase is accepted and upper-cased. */
  static parse(input: string, field = 'creditCode'): Result<CreditCode> {
    const notString = requireString(input, field, 'creditCode');
    if (notString) return notString;
    const code = input.toUpperCase();
    if (code.length !== BODY_LENGTH + 1) {
      return fail(
        field,
        'creditCode.length',
        { zh: '统一社会信用代码须为18位', en: 'a unified social credit code has 18 characters' },
        input,
      );
    }
    if (invalidCharacters(code)) {
      return fail(
        field,
        'creditCode.charset',
        {
          zh: '统一社会信用代码只能包含数字和除 I、O、S、V、Z 以外的大写字母',
          en: 'a unified social credit code uses digits and capital letters except I, O, S, V, Z',
        },
        input,
      );
    }
    if (checkCharacterOf(code) !== code[BODY_LENGTH]) {
      return fail(
        field,
        'creditCode.checkCharacter',
        {
          zh: '统一社会信用代码校验码不正确，请核对是否输错',
          en: 'the check character does not match: the code was probably mistyped',
        },
        input,
      );
    }
    return ok(new CreditCode(code));
  }

  static parseOrThrow(input: string, field?: string): CreditCode {
    return unwrap(CreditCode.parse(input, field));
  }

  /** Completes a 17-character body with its check character: for test and demo organisations. */
  static withCheckCharacter(first17: string): CreditCode {
    const body = first17.toUpperCase();
    if (body.length !== BODY_LENGTH || invalidCharacters(body)) {
      // Let parse produce the precise length/charset error.
      return CreditCode.parseOrThrow(`${body}0`);
    }
    return new CreditCode(body + checkCharacterOf(body));
  }

  equals(other: CreditCode): boolean {
    return this.value === other.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }
}
