import {
  assertNever,
  DomainError,
  type Command,
  type Decider,
  type DomainEvent,
} from '@lianfang/eventsourcing';
import { given } from './given-when-then';

// A counter with a ceiling: the smallest decider that can say yes, no and "nothing to do".
type CounterCommand =
  Command<'Increment', { by: number }, { commandId: string }> | Command<'Reset', null, null>;
type CounterEvent = DomainEvent<'Incremented', { by: number }> | DomainEvent<'WasReset', null>;

const counter: Decider<CounterCommand, CounterEvent, number> = {
  initialState: () => 0,
  decide(command, state) {
    switch (command.type) {
      case 'Increment':
        if (state + command.data.by > 10) {
          throw new DomainError({
            code: 'counter.ceiling',
            field: 'by',
            message: { en: 'Over the ceiling', zh: '超过上限' },
            details: { state, by: command.data.by },
          });
        }
        return [{ type: 'Incremented', data: { by: command.data.by } }];
      case 'Reset':
        return state === 0 ? [] : [{ type: 'WasReset', data: null }];
      default:
        return assertNever(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'Incremented':
        return state + event.data.by;
      case 'WasReset':
        return 0;
      default:
        return assertNever(event);
    }
  },
};

const inc = (by: number): CounterCommand => ({
  type: 'Increment',
  data: { by },
  metadata: { commandId: 'c' },
});
const incremented = (by: number): CounterEvent => ({ type: 'Incremented', data: { by } });
const reset: CounterCommand = { type: 'Reset', data: null, metadata: null };

describe('given / when / then', () => {
  it('then: the events decide produced', () => {
    given(counter).when(inc(2)).then(incremented(2));
    given(counter, incremented(2), incremented(3)).when(reset).then({ type: 'WasReset', data: null });
  });

  it('thenThrows: by code, RegExp or matcher', () => {
    given(counter, incremented(9)).when(inc(2)).thenThrows('counter.ceiling');
    given(counter, incremented(9))
      .when(inc(2))
      .thenThrows(/^counter\./);
    given(counter, incremented(9))
      .when(inc(2))
      .thenThrows({
        code: 'counter.ceiling',
        field: 'by',
        message: { zh: '超过上限' },
        details: { state: 9 },
      });
  });

  it('thenNothing: accepted, nothing to record', () => {
    given(counter).when(reset).thenNothing();
  });

  it('thenState: the state after the given and the produced events', () => {
    given(counter, incremented(4)).when(inc(3)).thenState(7);
    given(counter, incremented(4))
      .when(inc(3))
      .thenState((s) => expect(s).toBeGreaterThan(5));
  });

  describe('fails the spec readably', () => {
    it('when events were expected but decide refused', () => {
      expect(() => given(counter, incremented(10)).when(inc(1)).then(incremented(1))).toThrow(
        /when Increment: expected events \[Incremented\], got DomainError "counter.ceiling"/,
      );
    });

    it('when an error was expected but decide produced events', () => {
      expect(() => given(counter).when(inc(1)).thenThrows('counter.ceiling')).toThrow(
        /expected a DomainError, got events \[Incremented\]/,
      );
    });

    it('when other events were produced', () => {
      expect(() => given(counter).when(inc(1)).then(incremented(2))).toThrow();
    });

    it('when the error has another code, field or details', () => {
      const spec = given(counter, incremented(9)).when(inc(2));
      expect(() => spec.thenThrows('counter.other')).toThrow();
      expect(() => spec.thenThrows({ field: 'other' })).toThrow();
      expect(() => spec.thenThrows({ details: { state: 1 } })).toThrow();
    });

    it('when nothing was expected but events came', () => {
      expect(() => given(counter, incremented(1)).when(reset).thenNothing()).toThrow();
    });

    it('when decide throws something that is not a DomainError', () => {
      const broken: typeof counter = {
        ...counter,
        decide: () => {
          throw new TypeError('boom');
        },
      };
      expect(() => given(broken).when(inc(1)).thenThrows('x')).toThrow(/got an exception: TypeError: boom/);
    });
  });
});
