/**
 * Configuration from environment variables, declared once per app as data, so that the same schema
 * validates the process at start, documents the variables (README table) and checks docker-compose.yml.
 *
 *   const schema = defineConfig({
 *     PORT: variable.port({ default: '4001', description: 'HTTP port' }),
 *     EVENT_STORE: variable.oneOf(['postgres', 'pglite'] as const, { default: 'pglite', description: '…' }),
 *     DATABASE_URL: variable.url({ requiredWhen: (env) => env.EVENT_STORE === 'postgres', description: '…' }),
 *   });
 *   const config = schema.load(process.env); // throws ConfigurationError naming every bad variable
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface VariableSpec<T> {
  readonly description: string;
  /** Used when the variable is unset or empty. A default is parsed like a given value. */
  readonly default?: string | ((env: Env) => string | undefined);
  /** Required: always (true) or depending on other variables. Without a default, unset → error. */
  readonly required?: boolean | ((env: Env) => boolean);
  /** Returns the value or throws `InvalidVariable` with the rule it breaks. */
  readonly parse: (raw: string, env: Env) => T;
  /** A value that passes `parse`: shown in docs and used by tests. */
  readonly example?: string;
  /** Never printed (keys, passwords). */
  readonly secret?: boolean;
}

export class InvalidVariable extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ConfigIssue {
  readonly variable: string;
  /** `required`, `oneOf`, `url`, `port`, … */
  readonly rule: string;
  readonly message: string;
}

/** Thrown at start: one line per bad variable, bilingual header, and what to do. */
export class ConfigurationError extends Error {
  readonly code = 'CONFIGURATION_INVALID';
  constructor(
    readonly app: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      [
        `${app}: configuration is invalid / 配置无效 — set or fix these environment variables:`,
        ...issues.map((i) => `  ${i.variable}: ${i.message} [${i.rule}]`),
      ].join('\n'),
    );
  }
}

/** The variables of one app, by name. */
export type ConfigVariables = Record<string, VariableSpec<unknown>>;
type Spec = ConfigVariables;
export type ConfigOf<S extends Spec> = {
  readonly [K in keyof S]: S[K] extends VariableSpec<infer T>
    ? S[K]['required'] extends true
      ? T
      : S[K]['default'] extends string
        ? T
        : T | undefined
    : never;
};

export interface ConfigSchema<S extends Spec> {
  readonly variables: S;
  /** Every issue, or the typed configuration. Never throws. */
  parse(env: Env): { ok: true; config: ConfigOf<S> } | { ok: false; issues: ConfigIssue[] };
  /** The configuration, or throws `ConfigurationError` listing every issue. */
  load(env: Env, app: string): ConfigOf<S>;
}

export function defineConfig<S extends Spec>(variables: S): ConfigSchema<S> {
  const parse: ConfigSchema<S>['parse'] = (env) => {
    const issues: ConfigIssue[] = [];
    const config: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(variables)) {
      const given = env[name];
      const fallback = typeof spec.default === 'function' ? spec.default(env) : spec.default;
      const raw = given !== undefined && given !== '' ? given : fallback;
      const required = typeof spec.required === 'function' ? spec.required(env) : (spec.required ?? false);
      if (raw === undefined || raw === '') {
        if (required)
          issues.push({ variable: name, rule: 'required', message: `is required: ${spec.description}` });
        config[name] = undefined;
        continue;
      }
      try {
        config[name] = spec.parse(raw, env);
      } catch (e) {
        const rule = e instanceof InvalidVariable ? e.rule : 'invalid';
        const shown = spec.secret ? '(hidden)' : JSON.stringify(raw);
        issues.push({ variable: name, rule, message: `${(e as Error).message}, got ${shown}` });
      }
    }
    return issues.length > 0 ? { ok: false, issues } : { ok: true, config: config as ConfigOf<S> };
  };
  return {
    variables,
    parse,
    load(env, app) {
      const result = parse(env);
      if (!result.ok) throw new ConfigurationError(app, result.issues);
      return result.config;
    },
  };
}

interface Common {
  readonly description: string;
  readonly default?: VariableSpec<unknown>['default'];
  readonly required?: VariableSpec<unknown>['required'];
  readonly example?: string;
  readonly secret?: boolean;
}

/** A spec that keeps the literal `default` and `required` it was given, so `ConfigOf` knows what is always set. */
type Typed<T, O extends Common> = VariableSpec<T> & {
  readonly default: O['default'];
  readonly required: O['required'];
};

/** The kinds of variable the apps use. */
export const variable = {
  string<const O extends Common & { pattern?: RegExp; rule?: string }>(options: O): Typed<string, O> {
    return {
      default: options.default,
      required: options.required,
      ...options,
      parse: (raw) => {
        if (options.pattern && !options.pattern.test(raw))
          throw new InvalidVariable(options.rule ?? 'pattern', `must match ${options.pattern}`);
        return raw;
      },
    };
  },
  oneOf<T extends string, const O extends Common = Common>(values: readonly T[], options: O): Typed<T, O> {
    return {
      default: options.default,
      required: options.required,
      ...options,
      parse: (raw) => {
        if (!(values as readonly string[]).includes(raw))
          throw new InvalidVariable('oneOf', `must be one of ${values.join(', ')}`);
        return raw as T;
      },
    };
  },
  int<const O extends Common & { min?: number; max?: number }>(options: O): Typed<number, O> {
    return {
      default: options.default,
      required: options.required,
      ...options,
      parse: (raw) => {
        const n = Number(raw);
        if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n))
          throw new InvalidVariable('integer', 'must be an integer');
        if (options.min !== undefined && n < options.min)
          throw new InvalidVariable('min', `must be at least ${options.min}`);
        if (options.max !== undefined && n > options.max)
          throw new InvalidVariable('max', `must be at most ${options.max}`);
        return n;
      },
    };
  },
  port<const O extends Common>(options: O): Typed<number, O> {
    const int = variable.int({ ...options, min: 0, max: 65535 });
    return {
      ...int,
      parse: (raw, env) => {
        try {
          return int.parse(raw, env);
        } catch {
          throw new InvalidVariable('port', 'must be a port number from 0 to 65535');
        }
      },
    };
  },
  url<const O extends Common & { protocols?: readonly string[] }>(options: O): Typed<string, O> {
    return {
      default: options.default,
      required: options.required,
      ...options,
      parse: (raw) => {
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          throw new InvalidVariable('url', 'must be an absolute URL');
        }
        const protocols = options.protocols;
        if (protocols && !protocols.includes(url.protocol.replace(/:$/, '')))
          throw new InvalidVariable('url', `must use ${protocols.join(' or ')}`);
        return raw;
      },
    };
  },
  /** Comma-separated, trimmed, no empty items; each item checked by `item` when given. */
  list<const O extends Common & { item?: (value: string) => void; min?: number }>(
    options: O,
  ): Typed<string[], O> {
    return {
      default: options.default,
      required: options.required,
      ...options,
      parse: (raw) => {
        const items = raw.split(',').map((s) => s.trim());
        if (items.some((s) => s === '')) throw new InvalidVariable('list', 'must not have empty items');
        if (options.min !== undefined && items.length < options.min)
          throw new InvalidVariable('list', `must have at least ${options.min} item(s)`);
        items.forEach((i) => options.item?.(i));
        return items;
      },
    };
  },
  bool<const O extends Common>(options: O): Typed<boolean, O> {
    return {
      default: options.default,
      required: options.required,
      ...options,
      parse: (raw) => {
        if (['true', '1', 'yes'].includes(raw)) return true;
        if (['false', '0', 'no'].includes(raw)) return false;
        throw new InvalidVariable('boolean', 'must be true or false');
      },
    };
  },
} as const;

/** `host:port`, as KAFKA_BROKERS items are. */
export function assertHostPort(value: string): void {
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(value))
    throw new InvalidVariable('hostPort', `"${value}" must be host:port`);
}
