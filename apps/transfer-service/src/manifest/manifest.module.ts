import { Module } from '@nestjs/common';

/** Electronic manifests: one per vehicle trip, from pickup to disposal. */
@Module({ providers: [], exports: [] })
export class ManifestModule {}
