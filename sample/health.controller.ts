import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { AdcpSigningHealthIndicator } from '../lib/health/adcp-signing.health.js';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(AdcpSigningHealthIndicator) private readonly signing: AdcpSigningHealthIndicator,
  ) {}

  /** 200 with `status: ok | degraded`, 503 with `status: error` when signed requests would fail closed. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.signing.isHealthy('adcp_signing')]);
  }
}
