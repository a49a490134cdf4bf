import type { SqlClient } from '@lianfang/eventsourcing';
import {
  countOpenDeadLetters,
  countUnsentOutbox,
  type ConsumerLag,
  type OpenDeadLetterCount,
  type Transport,
} from '@lianfang/messaging';

/** Collector functions over the libraries, for `ServiceMetrics.addCollectors` / `ObservabilityOptions.collectors`. */

/** Unsent rows of the store's outbox (a count on the partial index, at scrape time). */
export function outboxBacklogCollector(client: SqlClient, schema: string): () => Promise<number> {
  return () => countUnsentOutbox(client, schema);
}

/** Open dead letters of the service's consumers. */
export function deadLetterCollector(client: SqlClient, schema: string): () => Promise<OpenDeadLetterCount[]> {
  return () => countOpenDeadLetters(client, schema);
}

/** The lag of each consumer group on its topics; [] for a transport that cannot tell. */
export function consumerLagCollector(
  transport: Transport,
  subscriptions: ReadonlyArray<{ readonly groupId: string; readonly topics: readonly string[] }>,
): () => Promise<ConsumerLag[]> {
  return async () => {
    const lagOf = transport.consumerLag?.bind(transport);
    if (!lagOf) return [];
    const all = await Promise.all(subscriptions.map((s) => lagOf(s.groupId, s.topics)));
    return all.flat();
  };
}
