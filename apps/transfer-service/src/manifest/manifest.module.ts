import { Module } from '@nestjs/common';
import type { AgencyDirectory } from '@lianfang/auth';
import { masterKeyFromEnv, PersonalDataCodec, SubjectKeyStore } from '@lianfang/eventsourcing';
import { AGENCY_DIRECTORY, PLATFORM, type Platform } from '@lianfang/runtime';
import { AgreementModule } from '../agreement/agreement.module';
import { MANIFEST_PERSONAL_DATA, ManifestCommands } from './manifest.commands';
import { ManifestReadModel } from './manifest.projection';
import { ManifestQueries } from './manifest.queries';
import { ManifestResolver } from './manifest.resolver';

/** Drivers' keys live beside the events, in the service's schema; the master key from the service's configuration. */
const personalDataProvider = {
  provide: MANIFEST_PERSONAL_DATA,
  inject: [PLATFORM],
  useFactory: async (p: Platform): Promise<PersonalDataCodec> => {
    // Embedded and development runs may use the public development key; a server needs its own.
    const mode =
      p.config.EVENT_STORE === 'pglite' ? 'embedded' : p.config.NODE_ENV === 'production' ? 'server' : 'dev';
    const keys = await SubjectKeyStore.open(p.sql, {
      masterKey: masterKeyFromEnv({ PERSONAL_DATA_MASTER_KEY: p.config.PERSONAL_DATA_MASTER_KEY }, { mode }),
      schema: p.schema,
    });
    return new PersonalDataCodec(keys);
  },
};

/** Electronic manifests: one per vehicle trip, from pickup to disposal. */
@Module({
  imports: [AgreementModule],
  providers: [
    personalDataProvider,
    ManifestCommands,
    {
      provide: ManifestQueries,
      inject: [PLATFORM, AGENCY_DIRECTORY, MANIFEST_PERSONAL_DATA],
      useFactory: (p: Platform, directory: AgencyDirectory, personalData: PersonalDataCodec) =>
        new ManifestQueries(p.sql, p.schema, directory, personalData),
    },
    ManifestReadModel,
    ManifestResolver,
  ],
  exports: [ManifestCommands, ManifestReadModel, MANIFEST_PERSONAL_DATA],
})
export class ManifestModule {}
