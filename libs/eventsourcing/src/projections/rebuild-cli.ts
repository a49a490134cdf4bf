import { formatLogPosition } from '../store/events';
import { rebuildProjection, type RebuildOptions, type RebuildProgress, type RebuildResult } from './rebuild';

function int(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.round(s % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

/**
 * One line for a terminal or a log, e.g.
 * `[rebuild transfer-summary v2#3] building 12,345/~50,000 events (24.7%), 9,876 applied, 3,210 ev/s, elapsed 3.8s, eta 11.6s @ 812:5541`
 */
export function formatRebuildProgress(p: RebuildProgress): string {
  const head = `[rebuild ${p.name} v${p.version}#${p.generation}]`;
  const rate = `${int(p.ratePerSecond)} ev/s`;
  const applied = `${int(p.eventsApplied)} applied`;
  switch (p.phase) {
    case 'starting':
      return p.resumed
        ? `${head} resuming at ${int(p.eventsDone)} events @ ${formatLogPosition(p.position)}${p.totalEstimate === undefined ? '' : `, ~${int(p.totalEstimate)} in all`}`
        : `${head} starting from the beginning of the log${p.totalEstimate === undefined ? '' : `, ~${int(p.totalEstimate)} events`} into ${Object.values(p.tables).join(', ')}`;
    case 'building': {
      const total = p.totalEstimate === undefined ? '' : `/~${int(p.totalEstimate)}`;
      const percent =
        p.totalEstimate === undefined || p.totalEstimate <= 0
          ? ''
          : ` (${Math.min(100, (100 * p.eventsDone) / p.totalEstimate).toFixed(1)}%)`;
      const eta = p.etaMs === undefined ? '' : `, eta ${duration(p.etaMs)}`;
      return `${head} building ${int(p.eventsDone)}${total} events${percent}, ${applied}, ${rate}, elapsed ${duration(p.elapsedMs)}${eta} @ ${formatLogPosition(p.position)}`;
    }
    case 'switched':
      return `${head} switched: ${int(p.eventsDone)} events, ${applied}, ${rate}, in ${duration(p.elapsedMs)}; serving ${Object.values(p.tables).join(', ')} @ ${formatLogPosition(p.position)}`;
    case 'aborted':
      return `${head} stopped at ${int(p.eventsDone)} events @ ${formatLogPosition(p.position)}; run again to resume`;
  }
}

export interface RebuildCliOptions extends RebuildOptions {
  /** Where progress lines go (default process.stderr). */
  readonly out?: { write(text: string): unknown };
  /** Stop cleanly on SIGINT/SIGTERM (the rebuild stays resumable). Default true. */
  readonly handleSignals?: boolean;
}

/**
 * Rebuilds a projection (blue/green) and prints progress lines to stderr, for an `npm run` script.
 * Resolves with the result; `result.switched` false means it was interrupted and can be resumed.
 */
export async function rebuildProjectionCli(options: RebuildCliOptions): Promise<RebuildResult> {
  const out = options.out ?? process.stderr;
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort();
  if (outer?.aborted) controller.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const onSignal = (sig: NodeJS.Signals) => {
    out.write(`[rebuild ${options.projection.name}] ${sig}: stopping after the current batch\n`);
    controller.abort();
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    const result = await rebuildProjection({
      ...options,
      signal: controller.signal,
      onProgress: (p) => {
        out.write(`${formatRebuildProgress(p)}\n`);
        options.onProgress?.(p);
      },
    });
    for (const t of result.dropped) out.write(`[rebuild ${options.projection.name}] dropped ${t}\n`);
    return result;
  } catch (e) {
    out.write(`[rebuild ${options.projection.name}] failed: ${e instanceof Error ? e.message : String(e)}\n`);
    throw e;
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    if (handleSignals) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
}
