import { ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/**
 * Hands a resolver's error to GraphQL untouched. Without it Nest's default handler logs every error
 * that is not an HttpException at `error` with its stack, so a refused page size or a business rule
 * would read like a crash in the logs. Errors are described by the formatter and unexpected ones are
 * logged once, by `errorReportingPlugin`.
 */
@Catch()
export class GraphqlErrorPassThrough extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<string>() === 'graphql') return exception;
    return super.catch(exception, host);
  }
}
