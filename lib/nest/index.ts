export * from './adcp-signing.constants.js';
export * from './adcp-signing.events.js';
export * from './adcp-signing.module.js';
export {
  ADCP_SIGNING_MODULE_OPTIONS,
  type AdcpSigningModuleExtras,
  type AdcpSigningOptionsFactory,
} from './adcp-signing.module-definition.js';
export * from './adcp-signing.options.js';
export * from './adcp-signing.service.js';
export * from './adcp-signing-health.report.js';
export * from './request-adapter.js';
export * from './signature-required.exception.js';
export * from './signed-request.decorator.js';
export * from './signed-request.guard.js';
export * from './signed-request.metadata.js';
export * from './verified-signer.decorator.js';
