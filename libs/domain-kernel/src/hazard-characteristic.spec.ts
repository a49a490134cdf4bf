import { HazardCharacteristic } from './hazard-characteristic';

describe('HazardCharacteristic', () => {
  it.each([
    ['T', '毒性', 'toxicity'],
    ['C', '腐蚀性', 'corrosivity'],
    ['I', '易燃性', 'ignitability'],
    ['R', '反应性', 'reactivity'],
    ['In', '感染性', 'infectivity'],
  ])('%s is %s / %s', (code, zh, en) => {
    const characteristic = HazardCharacteristic.parseOrThrow(code);
    expect(characteristic.label).toEqual({ zh, en });
    expect(JSON.stringify(characteristic)).toBe(`"${code}"`);
  });

  it('lists the five characteristics from the data file', () => {
    expect(HazardCharacteristic.all().map((c) => c.code)).toEqual(['T', 'C', 'I', 'R', 'In']);
  });

  it.each(['in', 't', 'X', '', 'toString'])('refuses %j', (input) => {
    const result = HazardCharacteristic.parse(input, 'hazards[1]');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'hazards[1]',
      rule: 'hazardCharacteristic.unknown',
    });
  });
});
