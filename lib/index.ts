/**
 * nestjs-adcp-signing: verify AdCP RFC 9421 signed requests. The framework-free core, the network fetchers
 * and the NestJS module. Optional peers (`@nestjs/terminus`, `ioredis`) live in their own subpaths, never here.
 */
export * from './core/index.js';
export * from './nest/index.js';
// Both layers name it: the core's record type and the Nest parameter decorator (which carries the type too).
export { VerifiedSigner } from './nest/verified-signer.decorator.js';
export * from './network/index.js';
