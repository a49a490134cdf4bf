import {
  Args,
  Directive,
  Field,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  ResolveReference,
} from '@nestjs/graphql';
import { AuthenticationError } from '@lianfang/auth';
import { Money } from '@lianfang/domain-kernel';
import { DomainError } from '@lianfang/eventsourcing';
import { IsString, Length, validate } from 'class-validator';
import { classValidatorError } from '../../errors/describe-error';

/**
 * Two small subgraphs, alpha and beta, meant to run in ONE process: each has a type that only a field of
 * its own types refers to (AlphaDetail, BetaDetail), the kind @nestjs/graphql lets leak into every schema
 * built in the process, and alpha has an entity reached only through `_entities`.
 */
@ObjectType()
export class AlphaDetail {
  @Field()
  note!: string;
}

@ObjectType()
export class AlphaThing {
  @Field(() => ID)
  id!: string;

  @Field(() => AlphaDetail)
  detail!: AlphaDetail;
}

@ObjectType()
@Directive('@key(fields: "id")')
export class AlphaEntity {
  @Field(() => ID)
  id!: string;

  @Field()
  label!: string;
}

@Resolver(() => AlphaThing)
export class AlphaResolver {
  @Query(() => AlphaThing)
  alphaThing(): AlphaThing {
    return { id: 'a-1', detail: { note: 'alpha' } };
  }
}

@Resolver(() => AlphaEntity)
export class AlphaEntityResolver {
  @ResolveReference()
  resolveReference(ref: { id: string }): AlphaEntity {
    return { id: ref.id, label: `entity ${ref.id}` };
  }
}

@ObjectType()
export class BetaDetail {
  @Field()
  note!: string;
}

@ObjectType()
export class BetaThing {
  @Field(() => ID)
  id!: string;

  @Field(() => BetaDetail)
  detail!: BetaDetail;
}

class Named {
  @IsString()
  @Length(2, 10)
  name!: string;
}

@Resolver(() => BetaThing)
export class BetaResolver {
  @Query(() => BetaThing)
  betaThing(): BetaThing {
    return { id: 'b-1', detail: { note: 'beta' } };
  }

  /** Adds one fen: exercises the Money scalar both ways. */
  @Query(() => Money)
  betaNextFen(@Args('amount', { type: () => Money }) amount: Money): Money {
    return amount.add(Money.fromFen(1n));
  }

  @Mutation(() => Boolean)
  async betaFail(@Args('kind') kind: string): Promise<boolean> {
    switch (kind) {
      case 'domain':
        throw new DomainError({
          code: 'beta.not-open',
          field: 'betaId',
          message: { zh: '该事项未开放', en: 'the matter is not open' },
          details: { status: 'closed' },
        });
      case 'denied':
        throw Object.assign(new Error('denied'), {
          kind: 'authorization',
          code: 'ACCESS_DENIED',
          zh: '无权操作',
          en: 'not allowed',
        });
      case 'authentication':
        throw new AuthenticationError('TOKEN_EXPIRED', '令牌已过期', 'the token has expired');
      case 'validation': {
        const input = Object.assign(new Named(), { name: 'x' });
        throw classValidatorError(await validate(input));
      }
      default:
        throw new Error('database connection refused at 10.0.0.7');
    }
  }
}
