import { ConfigurationError, defineConfig, variable } from './config';
import { serviceConfigSchema, type ServiceConfig } from './service-config';

const schema = serviceConfigSchema({ name: 'transfer-service', defaultPort: 4001, schema: 'transfer' });

describe('configuration schemas', () => {
  it('gives the embedded defaults with nothing set', () => {
    const config = schema.load({}, 'transfer-service');
    expect(config).toMatchObject({
      PORT: 4001,
      EVENT_STORE: 'pglite',
      BUS: 'memory',
      DATABASE_SCHEMA: 'transfer',
    });
    // Typed from the schema: a variable with a default is always set, one without may be undefined.
    const port: number = config.PORT;
    const store: ServiceConfig['EVENT_STORE'] = config.EVENT_STORE;
    // @ts-expect-error DATABASE_URL has no default
    const url: string = config.DATABASE_URL;
    expect([port, store, url]).toEqual([4001, 'pglite', undefined]);
  });

  it('names every bad or missing variable and the rule it breaks, all at once', () => {
    const result = schema.parse({
      EVENT_STORE: 'postgres',
      BUS: 'kafka',
      PORT: '70000',
      KAFKA_BROKERS: 'kafka',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.variable, i.rule])).toEqual([
      ['PORT', 'port'],
      ['DATABASE_URL', 'required'],
      ['KAFKA_BROKERS', 'hostPort'],
    ]);
    expect(() => schema.load({ EVENT_STORE: 'mysql' }, 'transfer-service')).toThrow(ConfigurationError);
    expect(() => schema.load({ EVENT_STORE: 'mysql' }, 'transfer-service')).toThrow(
      /EVENT_STORE: must be one of postgres, pglite, got "mysql" \[oneOf\]/,
    );
  });

  it('never prints a secret it refuses', () => {
    const secret = defineConfig({
      KEY: variable.string({ description: 'k', secret: true, pattern: /^-----BEGIN/ }),
    });
    const result = secret.parse({ KEY: 'hunter2' });
    expect(result.ok ? '' : result.issues[0].message).not.toContain('hunter2');
  });
});
