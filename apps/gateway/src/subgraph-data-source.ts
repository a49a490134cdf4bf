import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Logger } from '@nestjs/common';
import { CORRELATION_HEADER, IDENTITY_HEADER } from '@lianfang/auth';
import { gatewayError } from './errors';
import type { GatewayContext } from './gateway-context';

/**
 * Calls one subgraph for the gateway. Every call carries the caller's identity re-signed by the gateway
 * (subgraphs trust only that, never the user's own token, which is not forwarded), the correlation id
 * and a W3C `traceparent`. A subgraph that cannot be reached or fails gives a clear error naming it;
 * the fields other subgraphs answered are still returned.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly logger: Logger;

  constructor(
    readonly serviceName: string,
    url: string,
    timeoutMs: number,
  ) {
    super({ url });
    this.logger = new Logger(`gateway → ${serviceName}`);
    const fetchWithDefaults = this.fetcher;
    // make-fetch-happen (the gateway's fetcher) takes `timeout`; without it a hung subgraph hangs the caller.
    this.fetcher = (input, init) =>
      fetchWithDefaults(input, { ...init, timeout: timeoutMs } as Parameters<typeof fetchWithDefaults>[1]);
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const headers = options.request.http?.headers;
    if (!headers) return;
    // Schema loading (live mode) and health checks are the gateway's own calls: no caller to forward.
    // (GraphQLDataSourceRequestKind is a type-only export of @apollo/gateway: compare its value.)
    if (String(options.kind) !== 'incoming operation') return;
    const context = options.context as GatewayContext;
    headers.set(IDENTITY_HEADER, await context.forwardedIdentity());
    headers.set(CORRELATION_HEADER, context.correlationId);
    headers.set('traceparent', context.trace.traceparent);
  }

  override didEncounterError(
    error: Error,
    _fetchRequest: unknown,
    fetchResponse?: { status: number; statusText: string },
    context?: GatewayContext,
  ): void {
    const correlationId = context?.correlationId;
    const service = this.serviceName;
    if (!fetchResponse) {
      // Nothing came back: refused connection, DNS failure, timeout.
      this.logger.warn(`${service} unreachable at ${this.url} (${error.message}) [${correlationId ?? '-'}]`);
      throw gatewayError(
        'SUBGRAPH_UNAVAILABLE',
        {
          zh: `服务 ${service} 暂不可用，来自该服务的字段为空；其余数据正常返回，请稍后重试`,
          en: `service ${service} is unavailable, so its fields are null; the other data is complete, try again later`,
        },
        { extensions: { service }, originalError: error },
      );
    }
    this.logger.warn(
      `${service} answered HTTP ${fetchResponse.status} ${fetchResponse.statusText} [${correlationId ?? '-'}]`,
    );
    const refused = fetchResponse.status === 401 || fetchResponse.status === 403;
    if (refused && !correlationId)
      // No caller: this is the gateway's own schema request (SUPERGRAPH_MODE=live), sent without identity.
      throw gatewayError(
        'SUBGRAPH_REFUSED',
        {
          zh: `服务 ${service} 拒绝了网关的模式查询（HTTP ${fetchResponse.status}）：实时组合（SUPERGRAPH_MODE=live）要求子图在无身份时也回答 { _service { sdl } }；否则请用 npm run schema 生成超图并使用 SUPERGRAPH_MODE=file`,
          en: `service ${service} refused the gateway's schema request (HTTP ${fetchResponse.status}): live composition (SUPERGRAPH_MODE=live) needs subgraphs that answer { _service { sdl } } without an identity; otherwise run \`npm run schema\` and use SUPERGRAPH_MODE=file`,
        },
        { extensions: { service, status: fetchResponse.status }, originalError: error },
      );
    if (refused)
      // The caller was already verified here, so a refusal means gateway and subgraph disagree on keys.
      throw gatewayError(
        'SUBGRAPH_REFUSED',
        {
          zh: `服务 ${service} 拒绝了网关转发的身份（HTTP ${fetchResponse.status}）：网关签名密钥与该服务配置的公钥不一致`,
          en: `service ${service} refused the identity forwarded by the gateway (HTTP ${fetchResponse.status}): the gateway's signing key and the service's GATEWAY_PUBLIC_KEY do not match`,
        },
        { extensions: { service, status: fetchResponse.status }, originalError: error },
      );
    const unavailable =
      fetchResponse.status === 502 || fetchResponse.status === 503 || fetchResponse.status === 504;
    throw gatewayError(
      unavailable ? 'SUBGRAPH_UNAVAILABLE' : 'SUBGRAPH_FAILED',
      unavailable
        ? {
            zh: `服务 ${service} 暂不可用（HTTP ${fetchResponse.status}），来自该服务的字段为空；请稍后重试`,
            en: `service ${service} is unavailable (HTTP ${fetchResponse.status}), so its fields are null; try again later`,
          }
        : {
            zh: `服务 ${service} 处理失败（HTTP ${fetchResponse.status}），来自该服务的字段为空`,
            en: `service ${service} failed (HTTP ${fetchResponse.status}), so its fields are null`,
          },
      { extensions: { service, status: fetchResponse.status }, originalError: error },
    );
  }
}
