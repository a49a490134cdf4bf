import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { IntrospectAndCompose, type GatewayConfig as ApolloGatewayConfig } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import { Logger } from '@nestjs/common';
import type { ReadinessCheck } from '@lianfang/runtime';
import type { GatewayConfig } from './config';
import { SupergraphError } from './errors';
import { SubgraphDataSource } from './subgraph-data-source';

/** The subgraphs of the platform and the variable that gives each one's URL. */
export const SUBGRAPHS = [
  { name: 'transfer', variable: 'TRANSFER_SERVICE_URL' },
  { name: 'compensation', variable: 'COMPENSATION_SERVICE_URL' },
  { name: 'enforcement', variable: 'ENFORCEMENT_SERVICE_URL' },
] as const;

const logger = new Logger('gateway');

/**
 * The URL the gateway calls for a subgraph of the supergraph: the configured one for the platform's
 * subgraphs (named `transfer` or `transfer-service`, …), the supergraph's own for any other.
 */
export function subgraphUrl(
  config: GatewayConfig,
  name: string,
  urlInSupergraph: string | undefined,
): string {
  const key = name.toLowerCase().replace(/[-_]?service$/, '');
  const known = SUBGRAPHS.find((s) => s.name === key);
  if (known) return config[known.variable];
  if (!urlInSupergraph)
    throw new SupergraphError(
      '',
      `超图中的子图 ${name} 没有 URL，且不是已知服务（transfer、compensation、enforcement）`,
      `subgraph ${name} of the supergraph has no URL and is not one of the known services (transfer, compensation, enforcement)`,
    );
  logger.warn(`subgraph ${name} is not a known service: calling the supergraph's URL ${urlInSupergraph}`);
  return urlInSupergraph;
}

/** Reads the composed supergraph, or says which file is missing and how to make it. */
export async function readSupergraph(file: string): Promise<string> {
  const absolute = path.resolve(file);
  let sdl: string;
  try {
    sdl = await fs.readFile(absolute, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new SupergraphError(
        absolute,
        `超图文件 ${absolute} 不存在：请运行 npm run schema 从各子图提交的 SDL 组合生成，或用 SUPERGRAPH_FILE 指向它`,
        `the supergraph file ${absolute} does not exist: run \`npm run schema\` to compose it from the subgraphs' committed SDL, or point SUPERGRAPH_FILE at it`,
      );
    throw new SupergraphError(
      absolute,
      `无法读取超图文件 ${absolute}（${code ?? (e as Error).message}）`,
      `the supergraph file ${absolute} cannot be read (${code ?? (e as Error).message})`,
    );
  }
  if (!/@join__graph\b/.test(sdl))
    throw new SupergraphError(
      absolute,
      `${absolute} 不是组合后的超图（缺少 join__graph）：请运行 npm run schema 重新生成`,
      `${absolute} is not a composed supergraph (no join__graph): run \`npm run schema\` to make it again`,
    );
  return sdl;
}

/** Gateway options for the configured mode: the committed supergraph, or live composition (dev). */
export async function apolloGatewayOptions(config: GatewayConfig): Promise<ApolloGatewayConfig> {
  const buildService = ({ name, url }: { name: string; url?: string }) =>
    new SubgraphDataSource(name, subgraphUrl(config, name, url), config.SUBGRAPH_TIMEOUT_MS);
  if (config.SUPERGRAPH_MODE === 'live') {
    logger.warn('SUPERGRAPH_MODE=live: composing from the running subgraphs (a development aid)');
    return {
      buildService,
      supergraphSdl: new IntrospectAndCompose({
        subgraphs: SUBGRAPHS.map((s) => ({ name: s.name, url: config[s.variable] })),
        pollIntervalInMs: 10_000,
      }),
    };
  }
  return { buildService, supergraphSdl: await readSupergraph(config.SUPERGRAPH_FILE) };
}

/**
 * Whether the gateway has a schema to serve; `/ready` reports it. Subgraphs are not part of readiness:
 * the gateway answers (partially) while one of them is down.
 */
export class SupergraphStatus {
  private loadedAt: Date | undefined;

  get loaded(): boolean {
    return this.loadedAt !== undefined;
  }

  readonly readiness: ReadinessCheck = {
    name: 'supergraph',
    check: async () => {
      if (!this.loadedAt) throw new Error('supergraph not loaded yet / 超图尚未加载');
    },
  };

  readonly plugin: ApolloServerPlugin = {
    serverWillStart: async () => ({
      schemaDidLoadOrUpdate: () => {
        this.loadedAt = new Date();
      },
      serverWillStop: async () => {
        this.loadedAt = undefined;
      },
    }),
  };
}
