// The hazard characteristics a manifest records, loaded from the same data file as the categories.
import hwCategoriesData from '../data/hw-categories.json';
import { type BilingualText, type Result, fail, ok, requireString, unwrap } from './validation';

export type HazardCharacteristicCode = 'T' | 'C' | 'I' | 'R' | 'In';

// The data file writes each name as '毒性 toxicity': Chinese, one space, English.
const LABELS: ReadonlyMap<string, BilingualText> = new Map(
  Object.entries(hwCategoriesData.hazardCharacteristics as Record<string, string>).map(([code, text]) => {
    const space = text.indexOf(' ');
    return [code, Object.freeze({ zh: text.slice(0, space), en: text.slice(space + 1) })] as const;
  }),
);

/** T toxicity, C corrosivity, I ignitability, R reactivity, In infectivity. */
export class HazardCharacteristic {
  private constructor(
    readonly code: HazardCharacteristicCode,
    readonly label: BilingualText,
  ) {
    Object.freeze(this);
  }

  static all(): readonly HazardCharacteristic[] {
    return [...LABELS.entries()].map(
      ([code, label]) => new HazardCharacteristic(code as HazardCharacteristicCode, label),
    );
  }

  /** Exact code, case-sensitive: 'In' (infectivity) and 'I' (ignitability) differ only by case. */
  static parse(input: string, field = 'hazardCharacteristic'): Result<HazardCharacteristic> {
    const notString = requireString(input, field, 'hazardCharacteristic');
    if (notString) return notString;
    const label = LABELS.get(input);
    if (!label) {
      return fail(
        field,
        'hazardCharacteristic.unknown',
        {
          zh: '危险特性须为 T（毒性）、C（腐蚀性）、I（易燃性）、R（反应性）或 In（感染性）',
          en: 'a hazard characteristic is T (toxicity), C (corrosivity), I (ignitability), R (reactivity) or In (infectivity)',
        },
        input,
      );
    }
    return ok(new HazardCharacteristic(input as HazardCharacteristicCode, label));
  }

  static parseOrThrow(input: string, field?: string): HazardCharacteristic {
    return unwrap(HazardCharacteristic.parse(input, field));
  }

  equals(other: HazardCharacteristic): boolean {
    return this.code === other.code;
  }

  toString(): string {
    return this.code;
  }

  toJSON(): string {
    return this.code;
  }
}
