import type { DestinationStream } from 'pino';

const LEVEL_LABEL: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
  fatal: 'FATAL',
};
const COLOUR: Record<string, string> = {
  trace: '\x1b[90m',
  debug: '\x1b[36m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[35m',
};
const RESET = '\x1b[0m';
/** Fields the line shows in its own place, or that are noise on a developer's terminal. */
const SHOWN = new Set(['level', 'time', 'msg', 'service', 'context', 'pid', 'hostname', 'correlationId']);
const HIDDEN = new Set(['traceId', 'spanId', 'req', 'res']);

/**
 * Development only: each JSON line pino writes becomes one readable line,
 * `12:03:04.567 INFO  transfer-service [Context] message  key=value  (corr 3f2a…)`, with the error stack
 * below. Production never uses this (JSON lines for the log pipeline).
 */
export function prettyDestination(
  out: { write(text: string): unknown; isTTY?: boolean },
  colour = out.isTTY === true,
): DestinationStream {
  return {
    write(line: string) {
      out.write(`${formatLine(line, colour)}\n`);
    },
  };
}

export function formatLine(line: string, colour = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const level = String(entry.level ?? 'info');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const label = LEVEL_LABEL[level] ?? level.toUpperCase();
  const parts = [
    time,
    colour ? `${COLOUR[level] ?? ''}${label}${RESET}` : label,
    String(entry.service ?? ''),
  ];
  if (entry.context) parts.push(`[${String(entry.context)}]`);
  if (entry.msg !== undefined) parts.push(String(entry.msg));
  const req = entry.req as { method?: string; url?: string } | undefined;
  const res = entry.res as { statusCode?: number } | undefined;
  if (req?.method)
    parts.push(`${req.method} ${req.url ?? ''}${res?.statusCode ? ` → ${res.statusCode}` : ''}`);
  let stack: string | undefined;
  for (const [key, value] of Object.entries(entry)) {
    if (SHOWN.has(key) || HIDDEN.has(key)) continue;
    if (key === 'err' && value && typeof value === 'object') {
      stack = String((value as { stack?: unknown }).stack ?? (value as { message?: unknown }).message);
      continue;
    }
    parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  if (typeof entry.correlationId === 'string') parts.push(`(corr ${entry.correlationId})`);
  return stack ? `${parts.join(' ')}\n${stack}` : parts.join(' ');
}
