// One contender, one round, in a process of its own (forked by eventstore.bench.ts): appends with N
// writers, tops the log up to the read-all minimum, reads it all, and sends the figures back over IPC.
// A process each, because Emmett's dumbo sets process-wide `pg` type parsers, and so that no
// contender inherits another's heap, JIT state or open connections.
import { performance } from 'node:perf_hooks';
import { type ContenderConfig, createContender } from './eventstore-contenders';
import { READ_WARMUP, runWriters } from './eventstore-workload';

export interface WorkerConfig extends ContenderConfig {
  readonly label: string;
  readonly warmupSeconds: number;
  readonly seconds: number;
  /** Read-all reads at least this many events: the log is topped up in bulk before reading. */
  readonly readMin: number;
  readonly readBatch: number;
}

export interface WorkerResult {
  readonly appendsPerSecond: number;
  readonly appended: number;
  readonly readEvents: number | null;
  readonly readPerSecond: number | null;
  /** Events read-all delivered more than once (counted once in readEvents and readPerSecond). */
  readonly duplicates: number;
  /** Events in the store that read-all never delivered. */
  readonly missing: number;
  /** Events in the store when read-all ran. */
  readonly total: number;
  readonly settings: Record<string, string>;
}

export type WorkerMessage = { ok: true; result: WorkerResult } | { ok: false; error: string };

const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(config: WorkerConfig): Promise<WorkerResult> {
  const say = (text: string) => process.stderr.write(`  ${config.label.padEnd(14)} ${text}\n`);
  const live = process.stderr.isTTY;
  const contender = await createContender(config);
  try {
    const settings = (await contender.settings?.()) ?? {};
    say(`${config.writers} writers: ${config.warmupSeconds} s warm-up, then ${config.seconds} s measured`);
    const written = await runWriters(
      config.writers,
      (cursor) => contender.appendOne(cursor),
      config.warmupSeconds * 1000,
      config.seconds * 1000,
      (phase, ms, appends) => {
        if (live)
          process.stderr.write(
            `\r  ${config.label.padEnd(14)} ${phase} ${(ms / 1000).toFixed(0)} s: ${fmt(appends)} appends, ${fmt((appends * 1000) / ms)}/s   `,
          );
      },
    );
    if (live) process.stderr.write('\r\x1b[K');
    say(`appends: ${fmt(written.perSecond)}/s (${fmt(written.total)} events in total)`);

    let total = written.total;
    if (total < config.readMin) {
      const t0 = performance.now();
      let fill = 0;
      const filler = async () => {
        while (total < config.readMin) {
          const n = Math.min(contender.topUpBatch, config.readMin - total);
          const seq = total;
          total += n;
          await contender.appendMany(`bench-${config.run}-fill-${fill++}`, n, seq);
        }
      };
      await Promise.all(Array.from({ length: config.writers }, filler));
      say(
        `topped up to ${fmt(total)} events in ${((performance.now() - t0) / 1000).toFixed(1)} s (not measured)`,
      );
    }

    // Warm the read path (JIT, PGlite's WebAssembly tiers, plans) on the first batches, untimed.
    await contender.readAll(config.readBatch, () => undefined, READ_WARMUP);
    global.gc?.();
    let touched = 0;
    const positions: (bigint | string)[] = [];
    const t0 = performance.now();
    const read = await contender.readAll(config.readBatch, (data, position) => {
      // The payload must be an object already (deserialised), and is used, so nothing is skipped.
      touched += (data as { containers: unknown[] }).containers.length;
      positions.push(position);
    });
    const seconds = (performance.now() - t0) / 1000;
    if (touched !== read * 2) throw new Error('read-all returned payloads that are not the manifests');
    // Exactly once, all of them: a store that skips or repeats events is flagged (not failed: Emmett's
    // read-all resumes by global_position while it orders by transaction id, so it can do both).
    const distinct = new Set(positions).size;
    const duplicates = read - distinct;
    const missing = total - distinct;
    say(
      `read-all: ${fmt(distinct)} events in ${seconds.toFixed(2)} s = ${fmt(distinct / seconds)} events/s` +
        (duplicates ? `; ⚠ ${fmt(duplicates)} delivered more than once (counted once)` : '') +
        (missing ? `; ⚠ ${fmt(missing)} of the ${fmt(total)} events never delivered` : ''),
    );
    return {
      appendsPerSecond: written.perSecond,
      appended: written.total,
      readEvents: distinct,
      readPerSecond: distinct / seconds,
      duplicates,
      missing,
      total,
      settings,
    };
  } finally {
    await contender.close();
  }
}

if (require.main === module) {
  const config = JSON.parse(process.argv[2]) as WorkerConfig;
  const reply = (message: WorkerMessage) => process.send?.(message, () => process.exit());
  main(config).then(
    (result) => reply({ ok: true, result }),
    (error: unknown) => {
      process.exitCode = 1;
      reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    },
  );
}
