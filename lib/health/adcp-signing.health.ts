import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { stableReplayStoreReason } from '../core/replay-store.interface.js';
import { AdcpSigningService } from '../nest/adcp-signing.service.js';

/**
 * Terminus 12 health indicator of the request-signing module: per counterparty, the key set's age and
 * state, the revocation list's age, `next_update` and the time left in grace.
 * - `up`: keys and lists are fresh;
 * - `degraded`: a list refresh is overdue but inside grace, stale keys are being served, or some (not
 *   all) counterparties fail closed (the check stays HTTP 200, the overall status becomes `degraded`);
 * - `down`: every counterparty fails closed, or a local dependency (the replay store, a source that could
 *   not be loaded) refuses every signed request.
 * One counterparty's lapse never turns the whole check `down`: used as a readiness probe, that would take
 * every replica out of rotation at once. It never throws for an unhealthy state.
 */
@Injectable()
export class AdcpSigningHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(AdcpSigningService) private readonly signing: AdcpSigningService,
  ) {}

  /** `health.check([() => indicator.isHealthy('adcp_signing')])`. */
  async isHealthy<const Key extends string = 'adcp_signing'>(
    key: Key = 'adcp_signing' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const session = this.indicators.check(key);
    const report = await this.signing.healthReport();
    const replayStoreReason = report.replay_store
      ? stableReplayStoreReason(report.replay_store)
      : undefined;
    const data = {
      ...(report.reasons.length > 0 ? { reasons: [...report.reasons] } : {}),
      prime: report.prime,
      counterparties: report.counterparties,
      // Backend, state and a stable reason code only: a connection error's text stays in the logs.
      ...(report.replay_store
        ? {
            replay_store: {
              backend: report.replay_store.backend,
              state: report.replay_store.state,
              ...(replayStoreReason !== undefined ? { reason: replayStoreReason } : {}),
            },
          }
        : {}),
    };
    switch (report.status) {
      case 'up':
        return session.up(data);
      case 'degraded':
        return session.degraded(data);
      case 'down':
        return session.down(data);
    }
  }
}
