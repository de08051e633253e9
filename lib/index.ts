/** nestjs-adcp-signing: verify AdCP RFC 9421 signed requests. The framework-free core. */
export * from './core/index.js';
