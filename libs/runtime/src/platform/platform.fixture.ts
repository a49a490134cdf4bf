import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module } from '@nestjs/common';
import {
  Aggregates,
  systemActor,
  type Command,
  type CommandMetadata,
  type Decider,
  type DomainEvent,
} from '@lianfang/eventsourcing';
import type { IncomingMessage, Transport } from '@lianfang/messaging';
import { PlatformModule, type PlatformModuleOptions } from '../platform.module';
import type { ServiceDefinition, SharedResources } from '../service';
import { serviceConfigSchema, type ServiceConfig } from '../service-config';
import { PLATFORM, type Platform } from './platform';

/** A trivial aggregate for the platform specs: a counter that counts up and says so to other services. */
type Count = Command<'Count', { readonly counterId: string; readonly by: number }, CommandMetadata>;
type Counted = DomainEvent<'Counted', { readonly by: number; readonly total: number }>;
interface CounterState {
  readonly total: number;
}

export const counterDecider: Decider<Count, Counted, CounterState> = {
  initialState: () => ({ total: 0 }),
  decide: (command, state) => [
    { type: 'Counted', data: { by: command.data.by, total: state.total + command.data.by } },
  ],
  evolve: (state, event) => ({ total: event.data.total }),
};

export const counterStream = (counterId: string) => `counter-${counterId}`;

/** What a command handler of a service does: load, decide, append with an integration event in the outbox. */
@Injectable()
export class Counters {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(PLATFORM) private readonly platform: Platform,
  ) {}

  count(counterId: string, by: number) {
    const command: Count = {
      type: 'Count',
      data: { counterId, by },
      metadata: {
        commandId: randomUUID(),
        now: new Date(),
        actor: systemActor('platform-spec'),
        correlationId: randomUUID(),
      },
    };
    return this.aggregates.handle({
      decider: counterDecider,
      streamId: counterStream(counterId),
      command,
      outbox: (events) =>
        events.map((e) => ({
          topic: this.platform.topic,
          key: e.metadata.streamId,
          type: 'CounterCounted',
          schemaVersion: 1,
          payload: {
            eventId: e.metadata.eventId,
            streamId: e.metadata.streamId,
            type: 'CounterCounted',
            data: e.data,
          },
        })),
    });
  }
}

@Module({})
class CounterAppModule {}

/** A service like the real ones: its AppModule imports PlatformModule.forService and adds its domain. */
export function counterService(
  name: string,
  options: PlatformModuleOptions = {},
): ServiceDefinition<ServiceConfig> {
  return {
    name,
    defaultPort: 0,
    config: serviceConfigSchema({ name, defaultPort: 0, schema: 'counter' }),
    module: (config: ServiceConfig, shared: SharedResources) => ({
      module: CounterAppModule,
      imports: [
        // Short idle poll: a spec should not wait a second for the relay when a wake-up is missed.
        PlatformModule.forService(name, config, shared, { relay: { idlePollMs: 100 }, ...options }),
      ],
      providers: [Counters],
    }),
  };
}

/** Collects what arrives on a topic (a subscriber of another service). */
export async function subscribe(
  transport: Transport,
  topic: string,
): Promise<{ received: IncomingMessage[]; stop(): Promise<void> }> {
  const received: IncomingMessage[] = [];
  const subscription = await transport.subscribe({
    groupId: `platform-spec-${randomUUID()}`,
    topics: [topic],
    fromBeginning: true,
    handle: async (m) => void received.push(m),
  });
  return { received, stop: () => subscription.stop() };
}

/** Polls until `check` holds; the deadline only bounds a hang (no timing assertion). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
