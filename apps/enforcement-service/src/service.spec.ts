import { useRunningService } from '@lianfang/testing';
import { service } from './service';

describe('enforcement-service boots', () => {
  const running = useRunningService(service);

  it('answers /health with its name', async () => {
    const res = await fetch(`${running().url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', service: 'enforcement-service' });
  });

  it('answers /ready when its dependencies are up', async () => {
    const res = await fetch(`${running().url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', service: 'enforcement-service' });
  });
});
