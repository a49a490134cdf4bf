/**
 * Upcasting: events are stored at the schema version they were written with and read at the current
 * one. An upcaster turns one version of one event type into the next; they chain (v1 → v2 → v3).
 */
export interface Upcaster<From = unknown, To = unknown> {
  readonly type: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  upcast(data: From): To;
}

/** The current schema version of each event type, stamped on append (default 1). */
export type SchemaVersions = Readonly<Record<string, number>>;

export interface UpcastResult {
  readonly schemaVersion: number;
  readonly data: unknown;
}

export class UpcasterChain {
  private readonly byKey = new Map<string, Upcaster>();
  private readonly types = new Set<string>();

  constructor(upcasters: readonly Upcaster[] = []) {
    for (const u of upcasters) {
      if (
        !Number.isInteger(u.fromVersion) ||
        !Number.isInteger(u.toVersion) ||
        u.toVersion <= u.fromVersion
      ) {
        throw new Error(`Upcaster for "${u.type}" must go from a lower to a higher integer version`);
      }
      const key = `${u.type}\u0000${u.fromVersion}`;
      if (this.byKey.has(key)) throw new Error(`Two upcasters for "${u.type}" from version ${u.fromVersion}`);
      this.byKey.set(key, u);
      this.types.add(u.type);
    }
  }

  /** Applies every upcaster registered from the stored version onwards, in order. */
  upcast(type: string, schemaVersion: number, data: unknown): UpcastResult {
    if (!this.types.has(type)) return { schemaVersion, data };
    let version = schemaVersion;
    let current = data;
    for (
      let u = this.byKey.get(`${type}\u0000${version}`);
      u;
      u = this.byKey.get(`${type}\u0000${version}`)
    ) {
      current = u.upcast(current);
      version = u.toVersion;
    }
    return { schemaVersion: version, data: current };
  }
}
