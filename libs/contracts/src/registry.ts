import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { IntegrationEventEnvelope, type Source } from './envelope';

/** One version of one integration event's data, validated at runtime by its class-validator class. */
export interface Contract<Data extends object = object> {
  readonly type: string;
  readonly version: number;
  readonly source: Source;
  readonly schema: new () => Data;
  /** One line a person reads in the DLQ tool and the docs. */
  readonly description: string;
}

export function defineContract<Data extends object>(contract: Contract<Data>): Contract<Data> {
  return Object.freeze(contract);
}

/** Names the field and the rule that failed, e.g. `data.acceptedKg` / `matches`. */
export interface ContractViolation {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

export type ValidatedMessage<Data extends object = object> =
  | {
      readonly ok: true;
      readonly envelope: IntegrationEventEnvelope<Data>;
      readonly contract: Contract<Data>;
    }
  | { readonly ok: false; readonly violations: readonly ContractViolation[] };

function flatten(errors: readonly ValidationError[], prefix: string): ContractViolation[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([rule, message]) => ({ field, rule, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

function validate(target: object, prefix: string): ContractViolation[] {
  return flatten(validateSync(target, { whitelist: false, forbidUnknownValues: true }), prefix);
}

/** Every contract a service knows, by type and version. */
export class ContractRegistry {
  private readonly contracts = new Map<string, Contract>();

  constructor(contracts: Iterable<Contract> = []) {
    for (const c of contracts) this.register(c);
  }

  register(contract: Contract): this {
    const key = `${contract.type}@${contract.version}`;
    if (this.contracts.has(key)) throw new Error(`Contract ${key} is registered twice`);
    this.contracts.set(key, contract);
    return this;
  }

  get(type: string, version: number): Contract | undefined {
    return this.contracts.get(`${type}@${version}`);
  }

  all(): Contract[] {
    return [...this.contracts.values()];
  }

  /** Validates a message as received (parsed JSON): the envelope, then its data against its contract. */
  validate(message: unknown): ValidatedMessage {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return {
        ok: false,
        violations: [{ field: '', rule: 'isObject', message: 'message must be a JSON object' }],
      };
    }
    const envelope = plainToInstance(IntegrationEventEnvelope, message);
    const violations = validate(envelope, '');
    if (violations.length > 0) return { ok: false, violations };
    const contract = this.get(envelope.type, envelope.schemaVersion);
    if (!contract) {
      return {
        ok: false,
        violations: [
          {
            field: 'type',
            rule: 'knownContract',
            message: `no contract for ${envelope.type} version ${envelope.schemaVersion}`,
          },
        ],
      };
    }
    if (contract.source !== envelope.source) {
      return {
        ok: false,
        violations: [
          {
            field: 'source',
            rule: 'contractSource',
            message: `${contract.type} is published by ${contract.source}`,
          },
        ],
      };
    }
    const data = plainToInstance(contract.schema, envelope.data);
    const dataViolations = validate(data as object, 'data');
    if (dataViolations.length > 0) return { ok: false, violations: dataViolations };
    return { ok: true, envelope: Object.assign(envelope, { data }), contract };
  }
}
