import type { SqlClient } from '@lianfang/eventsourcing';
import type { KafkaTransport, Transport } from '@lianfang/messaging';
import type { ReadinessCheck } from '../health';
import { describeError } from './errors';

/** The store answers: `select 1` through the service's own SqlClient (the pool its event store uses). */
export function sqlReadinessCheck(sql: SqlClient): ReadinessCheck {
  const what = sql.dialect === 'postgres' ? 'PostgreSQL' : 'PGlite';
  return {
    name: sql.dialect,
    async check() {
      try {
        await sql.query('SELECT 1');
      } catch (e) {
        throw new Error(`${what} does not answer / 数据库无响应: ${describeError(e)}`);
      }
    },
  };
}

export interface BusReadinessCheck extends ReadinessCheck {
  /** Disconnects what the check opened (the Kafka admin client). */
  close(): Promise<void>;
}

/**
 * The bus answers. Kafka: the cluster metadata through an admin client of the check's own (kept connected
 * between checks, dropped and reopened after a failure). The in-process bus is always there.
 */
export function busReadinessCheck(transport: Transport): BusReadinessCheck {
  if (transport.kind !== 'kafka') {
    return { name: 'memory-bus', check: async () => undefined, close: async () => undefined };
  }
  const kafka = (transport as KafkaTransport).kafka;
  type Admin = ReturnType<typeof kafka.admin>;
  let admin: Promise<Admin> | undefined;
  let closed = false;
  const drop = async () => {
    const current = admin;
    admin = undefined;
    if (current) await current.then((a) => a.disconnect()).catch(() => undefined);
  };
  return {
    name: 'kafka',
    async check() {
      if (closed) throw new Error('the service is stopping / 服务正在停止');
      try {
        if (!admin) {
          // No retries here: readiness asks "now", and the controller bounds the wait anyway.
          const created = kafka.admin({ retry: { retries: 0 } });
          admin = created.connect().then(() => created);
        }
        const cluster = await (await admin).describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no broker in the cluster metadata');
      } catch (e) {
        await drop();
        throw new Error(`Kafka does not answer / Kafka 无响应: ${describeError(e)}`);
      }
    },
    async close() {
      closed = true;
      await drop();
    },
  };
}
