import net from 'node:net';
import { createKafkaTransport, createMemoryTransport } from '@lianfang/messaging';
import { busReadinessCheck } from './readiness';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('bus readiness', () => {
  it('is always ready on the in-process bus', async () => {
    const transport = createMemoryTransport();
    const check = busReadinessCheck(transport);
    expect(check.name).toBe('memory-bus');
    await expect(check.check()).resolves.toBeUndefined();
    await transport.close();
  });

  it('names Kafka and says why when no broker answers, and refuses once closed', async () => {
    const quiet = { warn: () => undefined, error: () => undefined };
    const transport = createKafkaTransport({
      brokers: [`127.0.0.1:${await closedPort()}`],
      clientId: 'readiness-spec',
      logger: quiet,
    });
    const check = busReadinessCheck(transport);
    try {
      expect(check.name).toBe('kafka');
      await expect(check.check()).rejects.toThrow(/^Kafka does not answer \/ Kafka 无响应: .*ECONNREFUSED/);
      await check.close();
      await expect(check.check()).rejects.toThrow('the service is stopping / 服务正在停止');
    } finally {
      await transport.close();
    }
  });
});
