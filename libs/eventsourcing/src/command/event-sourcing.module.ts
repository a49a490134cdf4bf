/**
 * NestJS wiring of the write side on @nestjs/cqrs.
 *
 *   @Module({ imports: [CqrsModule.forRoot(), EventSourcingModule.forRoot({ store: () => createPgliteEventStore(...) })],
 *             providers: [ApproveTransferHandler] })
 *
 *   export class ApproveTransfer extends DeciderCommand<ApproveTransferCommand, TransferState> {}
 *
 *   @CommandHandler(ApproveTransfer)
 *   export class ApproveTransferHandler implements ICommandHandler<ApproveTransfer> {
 *     constructor(private readonly aggregates: Aggregates) {}
 *     execute({ command }: ApproveTransfer) {
 *       return this.aggregates.handle({ decider: transferDecider, streamId: transferStream(command.data.transferId), command });
 *     }
 *   }
 *
 *   const { version, lastLogPosition } = await commandBus.execute(new ApproveTransfer(command));
 *
 * or, shorter still, extend `DeciderCommandHandler` and name the decider and the stream.
 */
import {
  Inject,
  Injectable,
  Module,
  Optional,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { Command as NestCommand } from '@nestjs/cqrs';
import type { Command, Decider, DomainEvent } from '../decider/decider';
import type { SnapshotStore } from '../snapshots/snapshot-store';
import type { EventStore } from '../store/event-store';
import {
  handleCommand,
  handleCommandAcross,
  type HandleCommandAcrossOptions,
  type HandleCommandAcrossResult,
  type HandleCommandOptions,
  type HandleCommandResult,
  type CommandObserver,
  type RetryOptions,
  type StreamBindings,
} from './command-handling';

/** The service's `EventStore`. */
export const EVENT_STORE = 'lianfang.EVENT_STORE';
/** The service's `SnapshotStore`, when it has one. */
export const SNAPSHOT_STORE = 'lianfang.SNAPSHOT_STORE';
const EVENT_SOURCING_OPTIONS = 'lianfang.EVENT_SOURCING_OPTIONS';
/**
 * Optional: a `CommandObserver` told about every command `Aggregates` handles (the service's metrics
 * provide it globally; `EventSourcingModuleOptions.observer` wins over it).
 */
export const COMMAND_OBSERVER = 'lianfang.COMMAND_OBSERVER';

export interface EventSourcingModuleOptions {
  /** Creates the event store; the module closes it on application shutdown. Gets the `inject`ed deps. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly store: (...deps: any[]) => EventStore | Promise<EventStore>;
  /** Creates the snapshot store, given the event store and the `inject`ed deps. Optional. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly snapshots?: (store: EventStore, ...deps: any[]) => SnapshotStore | Promise<SnapshotStore>;
  readonly inject?: Array<InjectionToken | OptionalFactoryDependency>;
  readonly imports?: ModuleMetadata['imports'];
  /** Defaults for every command handled through `Aggregates` (maxRetries 5, backoff). */
  readonly retry?: RetryOptions;
  /** Told about every command handled through `Aggregates` (default: the `COMMAND_OBSERVER` provider, if any). */
  readonly observer?: CommandObserver;
  /** Close the event store on shutdown (default true). */
  readonly closeOnShutdown?: boolean;
}

/**
 * What a command handler needs: the stores and the load–decide–append loop with the module's
 * defaults. Inject it into `@CommandHandler` classes.
 */
@Injectable()
export class Aggregates {
  constructor(
    @Inject(EVENT_STORE) readonly store: EventStore,
    @Optional() @Inject(SNAPSHOT_STORE) readonly snapshots: SnapshotStore | undefined,
    @Optional()
    @Inject(EVENT_SOURCING_OPTIONS)
    private readonly options: EventSourcingModuleOptions | undefined,
    @Optional()
    @Inject(COMMAND_OBSERVER)
    private readonly observer?: CommandObserver,
  ) {}

  /** One stream, one decider: see `handleCommand`. */
  handle<C extends Command, E extends DomainEvent, S>(
    options: Omit<HandleCommandOptions<C, E, S>, 'store'>,
  ): Promise<HandleCommandResult<S>> {
    return handleCommand<C, E, S>({ ...this.defaults(), ...options, store: this.store });
  }

  /** A decision over several streams, one atomic append: see `handleCommandAcross`. */
  handleAcross<C extends Command, B extends StreamBindings>(
    options: Omit<HandleCommandAcrossOptions<C, B>, 'store'>,
  ): Promise<HandleCommandAcrossResult<B>> {
    return handleCommandAcross<C, B>({ ...this.defaults(), ...options, store: this.store });
  }

  private defaults(): RetryOptions & { snapshots?: SnapshotStore; observer?: CommandObserver } {
    const observer = this.options?.observer ?? this.observer;
    return {
      ...this.options?.retry,
      ...(this.snapshots ? { snapshots: this.snapshots } : {}),
      ...(observer ? { observer } : {}),
    };
  }
}

@Injectable()
class EventStoreCloser implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(EVENT_SOURCING_OPTIONS) private readonly options: EventSourcingModuleOptions,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.options.closeOnShutdown ?? true) await this.store.close();
  }
}

@Module({})
export class EventSourcingModule {
  /** Global: every feature module's handlers can inject `Aggregates`, `EVENT_STORE`, `SNAPSHOT_STORE`. */
  static forRoot(options: EventSourcingModuleOptions): DynamicModule {
    const inject = options.inject ?? [];
    return {
      module: EventSourcingModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: EVENT_SOURCING_OPTIONS, useValue: options },
        { provide: EVENT_STORE, useFactory: options.store, inject },
        ...(options.snapshots
          ? [{ provide: SNAPSHOT_STORE, useFactory: options.snapshots, inject: [EVENT_STORE, ...inject] }]
          : []),
        Aggregates,
        EventStoreCloser,
      ],
      exports: [EVENT_STORE, ...(options.snapshots ? [SNAPSHOT_STORE] : []), Aggregates],
    };
  }
}

/**
 * A Nest command carrying a decider command. The result type is what `CommandBus.execute` returns:
 *   export class ApproveTransfer extends DeciderCommand<ApproveTransferCommand, TransferState> {}
 */
export abstract class DeciderCommand<C extends Command, S = unknown> extends NestCommand<
  HandleCommandResult<S>
> {
  constructor(readonly command: C) {
    super();
  }
}

/**
 * The shortest handler for a one-stream command: name the decider and the stream. (It cannot declare
 * `implements ICommandHandler<NC>`, a conditional type; the subclass may.)
 *
 *   @CommandHandler(ApproveTransfer)
 *   export class ApproveTransferHandler extends DeciderCommandHandler<ApproveTransfer, TransferCommand, TransferEvent, TransferState> {
 *     protected readonly decider = transferDecider;
 *     protected streamId(c: ApproveTransferCommand) { return `transfer-${c.data.transferId}`; }
 *   }
 */
@Injectable()
export abstract class DeciderCommandHandler<
  NC extends DeciderCommand<C, S>,
  C extends Command,
  E extends DomainEvent,
  S,
> {
  protected abstract readonly decider: Decider<C, E, S>;
  protected abstract streamId(command: NC['command']): string;

  constructor(protected readonly aggregates: Aggregates) {}

  execute(command: NC): Promise<HandleCommandResult<S>> {
    return this.aggregates.handle<C, E, S>({
      decider: this.decider,
      streamId: this.streamId(command.command),
      command: command.command,
    });
  }
}
