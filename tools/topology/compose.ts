import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * docker-compose.yml as `docker compose config` would see it, without Docker: YAML with anchors and
 * merge keys, then variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`,
 * `${VAR?message}`, `${VAR:+alt}`, `$$`) in every string value.
 */
export type Variables = Readonly<Record<string, string | undefined>>;

export interface ComposeService {
  readonly image?: string;
  readonly build?: string | { context?: string; dockerfile?: string; args?: unknown };
  readonly environment?: Record<string, string | number | boolean | null> | string[];
  readonly depends_on?: string[] | Record<string, { condition?: string }>;
  readonly ports?: (string | number | Record<string, unknown>)[];
  readonly healthcheck?: { test?: string | string[] };
  readonly profiles?: string[];
  readonly volumes?: unknown[];
  readonly [key: string]: unknown;
}

export interface ComposeFile {
  readonly services: Record<string, ComposeService>;
  readonly volumes?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** A `${VAR:?message}` whose variable is unset (or empty): compose stops with the message. */
export class MissingVariableError extends Error {
  constructor(
    readonly variable: string,
    readonly detail: string,
  ) {
    super(`required variable ${variable} is missing a value: ${detail}`);
  }
}

export interface Interpolation {
  readonly value: string;
  /** Variables referenced with no default and no `?`: compose substitutes "" and only warns. */
  readonly unsetWithoutDefault: string[];
}

/** Interpolates one string the way compose does. */
export function interpolate(text: string, variables: Variables): Interpolation {
  const unsetWithoutDefault: string[] = [];
  const value = text.replace(
    /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, braced?: string, colon?: string, operator?: string, operand?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare) as string;
      const given = variables[name];
      const missing = colon ? given === undefined || given === '' : given === undefined;
      switch (operator) {
        case '-':
          return missing ? (operand ?? '') : (given as string);
        case '?':
          if (missing) throw new MissingVariableError(name, operand ?? '');
          return given as string;
        case '+':
          return missing ? '' : (operand ?? '');
        default:
          if (given === undefined) unsetWithoutDefault.push(name);
          return given ?? '';
      }
    },
  );
  return { value, unsetWithoutDefault };
}

export interface VariableReference {
  readonly name: string;
  /** `''` (plain), `-`, `:-`, `?`, `:?`, `+`, `:+` */
  readonly operator: string;
  readonly operand: string;
}

/** Every `${VAR…}` in the string values of a compose file (comments do not count). */
export function composeReferences(text: string): VariableReference[] {
  const found: VariableReference[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') found.push(...variableReferences(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(parse(text, { merge: true }));
  return found;
}

/** Every `${VAR…}` form used in a text, with its operator (`''` for a plain reference). */
export function variableReferences(text: string): VariableReference[] {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g)].map((m) => ({
    name: m[1],
    operator: m[2] ?? '',
    operand: m[3] ?? '',
  }));
}

function interpolateDeep(value: unknown, variables: Variables, unset: Set<string>): unknown {
  if (typeof value === 'string') {
    const r = interpolate(value, variables);
    r.unsetWithoutDefault.forEach((v) => unset.add(v));
    return r.value;
  }
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, variables, unset));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, variables, unset)]),
    );
  return value;
}

export interface LoadedCompose {
  readonly file: ComposeFile;
  /** Variables referenced without a default or `?`, which compose would silently make empty. */
  readonly unsetWithoutDefault: readonly string[];
}

/** Reads and interpolates a compose file; throws `MissingVariableError` as `docker compose` would. */
export function loadCompose(composeFile: string, variables: Variables): LoadedCompose {
  return parseCompose(readFileSync(composeFile, 'utf8'), variables);
}

export function parseCompose(text: string, variables: Variables): LoadedCompose {
  // merge: compose supports YAML merge keys (`<<: *anchor`), which YAML 1.2 leaves out by default.
  const raw = parse(text, { merge: true }) as unknown;
  if (!raw || typeof raw !== 'object' || !('services' in raw))
    throw new Error('not a compose file: no `services`');
  const unset = new Set<string>();
  const file = interpolateDeep(raw, variables, unset) as ComposeFile;
  return { file, unsetWithoutDefault: [...unset] };
}

/** A service's environment as the container gets it (list or map form; numbers as text). */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((item) => {
        const i = item.indexOf('=');
        if (i < 0) throw new Error(`environment item "${item}" takes its value from the host: give it one`);
        return [item.slice(0, i), item.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => {
      if (v === null || typeof v === 'boolean')
        throw new Error(`environment ${k}: ${v === null ? 'no value' : 'a YAML boolean'}; write it as text`);
      return [k, String(v)];
    }),
  );
}

/** The Dockerfile a service builds from, relative to the compose file's directory. */
export function serviceDockerfile(service: ComposeService): string | undefined {
  const build = service.build;
  if (build === undefined) return undefined;
  if (typeof build === 'string') return `${build.replace(/\/$/, '')}/Dockerfile`;
  const context = (build.context ?? '.').replace(/\/$/, '');
  return context === '.'
    ? (build.dockerfile ?? 'Dockerfile')
    : `${context}/${build.dockerfile ?? 'Dockerfile'}`;
}
