import { Controller, Get, Global, Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { defineConfig, ObservabilityModule, variable, type ServiceDefinition } from '@lianfang/runtime';
import { useRunningService } from './service';
import { useSubgraph } from './subgraph';

/** A clock token as the services declare theirs: provided by a global module, injected elsewhere. */
const CLOCK = 'test.CLOCK';
const GREETING = 'test.GREETING';
type Clock = () => Date;

@Global()
@Module({
  providers: [
    { provide: CLOCK, useValue: (() => new Date()) satisfies Clock },
    { provide: GREETING, useValue: 'hello' },
  ],
  exports: [CLOCK, GREETING],
})
class TimeModule {}

/** Reads the clock when built and when asked: an override must reach it before the app starts. */
@Injectable()
class Stamp {
  readonly atStart: string;
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GREETING) readonly greeting: string,
  ) {
    this.atStart = clock().toISOString();
  }
  now(): string {
    return this.clock().toISOString();
  }
}

@Controller()
class StampController {
  constructor(@Inject(Stamp) private readonly stamp: Stamp) {}
  @Get('stamp')
  get() {
    return { atStart: this.stamp.atStart, now: this.stamp.now(), greeting: this.stamp.greeting };
  }
}

@Module({ controllers: [StampController], providers: [Stamp] })
class StampModule {}

const stampService: ServiceDefinition<{ GREETING_SUFFIX?: string }> = {
  name: 'stamp-service',
  defaultPort: 0,
  config: defineConfig({ GREETING_SUFFIX: variable.string({ description: 'unused' }) }),
  // With the services' logger, as every app has it (startService looks for it).
  module: (): DynamicModule => ({
    module: class StampApp {},
    imports: [ObservabilityModule.forService('stamp-service'), TimeModule, StampModule],
  }),
};

const FIXED = new Date('2026-09-29T01:00:00.000Z');

async function stamp(url: string) {
  const res = await fetch(`${url}/stamp`);
  return (await res.json()) as { atStart: string; now: string; greeting: string };
}

describe('useRunningService with overrides', () => {
  let now = FIXED;
  const running = useRunningService(stampService, {
    overrides: [
      { provide: CLOCK, useValue: (() => now) satisfies Clock },
      { provide: GREETING, useValue: '你好' },
    ],
  });

  it('replaces the providers everywhere they are injected, before the app starts', async () => {
    expect(await stamp(running().url)).toEqual({
      atStart: FIXED.toISOString(),
      now: FIXED.toISOString(),
      greeting: '你好',
    });
    now = new Date('2026-10-09T16:00:00.000Z');
    expect((await stamp(running().url)).now).toBe('2026-10-09T16:00:00.000Z');
    expect(running().app.get<Clock>(CLOCK, { strict: false })()).toEqual(now);
  });
});

describe('useRunningService restarted', () => {
  const running = useRunningService(stampService, {
    env: () => ({ GREETING_SUFFIX: '!' }),
    overrides: [{ provide: CLOCK, useValue: (() => FIXED) satisfies Clock }],
  });

  it('starts again on the same DATA_DIR, with the suite’s overrides or the ones given', async () => {
    const { dataDir, app: first } = running();
    let later = FIXED;
    const again = await running.restart({
      overrides: [{ provide: CLOCK, useValue: (() => later) satisfies Clock }],
      whileDown: () => {
        expect((first.getHttpServer() as { listening: boolean }).listening).toBe(false);
        later = new Date('2026-10-09T16:00:00.000Z');
      },
    });
    expect(again.dataDir).toBe(dataDir);
    expect(running().url).toBe(again.url);
    expect(await stamp(again.url)).toMatchObject({
      atStart: '2026-10-09T16:00:00.000Z',
      greeting: 'hello',
    });

    await running.restart();
    expect((await stamp(running().url)).atStart).toBe(FIXED.toISOString());
  });
});

describe('useRunningService without overrides', () => {
  const running = useRunningService(stampService);

  it('keeps the app’s own providers', async () => {
    const before = Date.now();
    const answer = await stamp(running().url);
    expect(answer.greeting).toBe('hello');
    expect(Date.parse(answer.now)).toBeGreaterThanOrEqual(before);
  });
});

describe('useSubgraph with overrides read when the suite starts', () => {
  let clock: Clock | undefined;
  beforeAll(() => {
    clock = () => FIXED;
  });
  const subgraph = useSubgraph(stampService, {
    overrides: () => [{ provide: CLOCK, useValue: clock }],
  });

  it('boots the app with them', async () => {
    expect(await stamp(subgraph.running().url)).toMatchObject({
      atStart: FIXED.toISOString(),
      greeting: 'hello',
    });
  });
});
