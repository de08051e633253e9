/** `nestjs-adcp-signing/testing`: helpers for your own tests. Never use these keys or servers in production. */
export * from './conformance/conformance-runner.js';
export * from './key-generation.js';
export * from './local-https-server.js';
export * from './local-redis-server.js';
export * from './loopback-port.js';
export * from './request-signer.js';
export * from './revocation-list.builder.js';
export * from './test-certificate-authority.js';
