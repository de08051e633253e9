import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AdcpSigningHealthIndicator } from './adcp-signing.health.js';

/**
 * Provides {@link AdcpSigningHealthIndicator}. Import it next to `TerminusModule` and
 * `AdcpSigningModule.forRoot()`, which must be global (the default): this module imports nothing that
 * could reach a non-global instance's `AdcpSigningService`.
 */
@Module({
  imports: [TerminusModule],
  providers: [AdcpSigningHealthIndicator],
  exports: [AdcpSigningHealthIndicator],
})
export class AdcpSigningHealthModule {}
