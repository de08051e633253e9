/** `nestjs-adcp-signing/health`: the Terminus 12 health indicator (needs the optional peer `@nestjs/terminus`). */

export type {
  AdcpHealthStatus,
  AdcpSigningHealthReport,
  CounterpartyHealth,
  JwksHealth,
  RevocationListHealth,
} from '../nest/adcp-signing-health.report.js';
export * from './adcp-signing.health.js';
export * from './adcp-signing-health.module.js';
