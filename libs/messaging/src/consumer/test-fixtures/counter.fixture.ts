import { randomUUID } from 'node:crypto';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import { ContractRegistry, defineContract } from '@lianfang/contracts';
import type { SqlClient, SqlExecutor } from '@lianfang/eventsourcing';
import {
  HEADERS,
  type IncomingMessage,
  type OutgoingMessage,
  type Transport,
} from '../../transport/transport';
import type { MessageHandler } from '../processing';

/**
 * Test fixtures of the consumer and dead-letter specs: a contract, envelopes, and a NON-IDEMPOTENT effect
 * (an increment and an ordered log, no unique constraint), so a double application shows.
 */
export class CounterData {
  @IsString()
  @MinLength(1)
  stream!: string;

  @IsInt()
  @Min(1)
  seq!: number;
}

export const counterContract = defineContract({
  type: 'CounterIncremented',
  version: 1,
  source: 'transfer',
  schema: CounterData,
  description: 'Test: increments a counter and logs (stream, seq).',
});

export const testContracts = (): ContractRegistry => new ContractRegistry([counterContract]);

export interface TestEnvelope {
  eventId: string;
  type: string;
  schemaVersion: number;
  source: string;
  streamId: string;
  streamPosition: string;
  occurredAt: string;
  correlationId: string;
  causationId: null;
  actor: { kind: 'system'; name: string };
  data: Record<string, unknown>;
}

export function counterEnvelope(stream: string, seq: number, data?: Record<string, unknown>): TestEnvelope {
  return {
    eventId: randomUUID(),
    type: 'CounterIncremented',
    schemaVersion: 1,
    source: 'transfer',
    streamId: stream,
    streamPosition: String(seq),
    occurredAt: new Date().toISOString(),
    correlationId: randomUUID(),
    causationId: null,
    actor: { kind: 'system', name: 'test' },
    data: data ?? { stream, seq },
  };
}

export function toOutgoing(topic: string, envelope: TestEnvelope, value?: string): OutgoingMessage {
  return {
    topic,
    key: envelope.streamId,
    value: value ?? JSON.stringify(envelope),
    headers: {
      [HEADERS.type]: envelope.type,
      [HEADERS.schemaVersion]: String(envelope.schemaVersion),
      [HEADERS.eventId]: envelope.eventId,
      [HEADERS.streamId]: envelope.streamId,
      [HEADERS.correlationId]: envelope.correlationId,
    },
  };
}

/** Publishes messages one at a time, in order (as the relay does). */
export async function publish(transport: Transport, messages: readonly OutgoingMessage[]): Promise<void> {
  const publisher = await transport.createPublisher();
  try {
    for (const m of messages) await publisher.send([m]);
  } finally {
    await publisher.close();
  }
}

/** The effect's tables in the consuming service's schema. No unique constraint: doubles would show. */
export async function createEffectTables(client: SqlClient, schema: string): Promise<void> {
  await client.query(`
    CREATE SCHEMA IF NOT EXISTS ${schema};
    CREATE TABLE ${schema}.counters (name text NOT NULL, n bigint NOT NULL);
    INSERT INTO ${schema}.counters VALUES ('total', 0);
    CREATE TABLE ${schema}.effect_log (id bigserial, stream text NOT NULL, seq integer NOT NULL, event_id text NOT NULL);
  `);
}

export interface CounterEffect {
  readonly handle: MessageHandler;
  /** Envelopes the handler was called with (attempts included). */
  readonly calls: Array<{ stream: string; seq: number }>;
  /** A failure to throw for (stream, seq), or undefined to apply. Change it to "fix" the handler. */
  fail: (stream: string, seq: number) => Error | undefined;
}

export function counterEffect(schema: string): CounterEffect {
  const effect: CounterEffect = {
    calls: [],
    fail: () => undefined,
    async handle(envelope, tx: SqlExecutor, _message: IncomingMessage) {
      const data = envelope.data as unknown as CounterData;
      effect.calls.push({ stream: data.stream, seq: data.seq });
      await tx.query(`UPDATE ${schema}.counters SET n = n + 1 WHERE name = 'total'`);
      await tx.query(`INSERT INTO ${schema}.effect_log (stream, seq, event_id) VALUES ($1, $2, $3)`, [
        data.stream,
        data.seq,
        envelope.eventId,
      ]);
      // After the writes: a failure must roll them back with the inbox row.
      const failure = effect.fail(data.stream, data.seq);
      if (failure) throw failure;
    },
  };
  return effect;
}

export async function effectState(
  client: SqlClient,
  schema: string,
): Promise<{ total: number; log: Record<string, number[]> }> {
  const total = Number((await client.query<{ n: unknown }>(`SELECT n FROM ${schema}.counters`)).rows[0].n);
  const rows = (
    await client.query<{ stream: string; seq: number }>(
      `SELECT stream, seq FROM ${schema}.effect_log ORDER BY id`,
    )
  ).rows;
  const log: Record<string, number[]> = {};
  for (const r of rows) (log[r.stream] ??= []).push(Number(r.seq));
  return { total, log };
}

/** Polls until `check` returns a value other than undefined/false; fails with `what` after timeoutMs. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Collects what arrives on a topic (e.g. `<topic>.dlq`) through the transport. */
export async function collect(
  transport: Transport,
  topic: string,
  groupId: string,
): Promise<{ messages: IncomingMessage[]; stop(): Promise<void> }> {
  const messages: IncomingMessage[] = [];
  const sub = await transport.subscribe({
    groupId,
    topics: [topic],
    fromBeginning: true,
    handle: async (m) => {
      messages.push(m);
    },
  });
  return { messages, stop: () => sub.stop() };
}
