import { defineConfig, serviceConfigSchema, variable, type ConfigOf } from '@lianfang/runtime';

const common = serviceConfigSchema({ name: 'transfer-service', defaultPort: 4001, schema: 'transfer' });

/** What transfer-service reads: every domain service's variables and its own rules. */
export const transferServiceConfigSchema = defineConfig({
  ...common.variables,
  INTRA_PROVINCE_LETTER: variable.bool({
    default: 'false',
    description:
      'true: a transfer within one province also goes by consultation letter (some provinces require it); false: it skips the letter',
  }),
});

export type TransferServiceConfig = ConfigOf<typeof transferServiceConfigSchema.variables>;
