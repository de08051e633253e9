/** `nestjs-adcp-signing/testing`: helpers for your own tests. Never use these keys or servers in production. */
export * from './conformance/conformance-runner.js';
export * from './key-generation.js';
export * from './request-signer.js';
