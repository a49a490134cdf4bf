import { UpcasterChain } from './upcasting';

describe('UpcasterChain', () => {
  const chain = new UpcasterChain([
    { type: 'A', fromVersion: 1, toVersion: 2, upcast: (d) => ({ ...(d as object), two: true }) },
    { type: 'A', fromVersion: 2, toVersion: 4, upcast: (d) => ({ ...(d as object), four: true }) },
  ]);

  it('chains from the stored version to the latest', () => {
    expect(chain.upcast('A', 1, { x: 1 })).toEqual({
      schemaVersion: 4,
      data: { x: 1, two: true, four: true },
    });
    expect(chain.upcast('A', 2, {})).toEqual({ schemaVersion: 4, data: { four: true } });
  });

  it('leaves current versions and other types alone', () => {
    const data = { x: 1 };
    expect(chain.upcast('A', 4, data).data).toBe(data);
    expect(chain.upcast('B', 1, data)).toEqual({ schemaVersion: 1, data });
  });

  it('refuses ambiguous or backwards upcasters', () => {
    expect(
      () =>
        new UpcasterChain([
          { type: 'A', fromVersion: 1, toVersion: 2, upcast: (d) => d },
          { type: 'A', fromVersion: 1, toVersion: 3, upcast: (d) => d },
        ]),
    ).toThrow(/Two upcasters/);
    expect(
      () => new UpcasterChain([{ type: 'A', fromVersion: 2, toVersion: 2, upcast: (d) => d }]),
    ).toThrow();
  });
});
