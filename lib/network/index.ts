/** The network layer: fetching counterparties' keys, brand.json and signed revocation lists over SSRF-safe HTTPS. */
export * from './brand-json.resolver.js';
export * from './counterparty.interface.js';
export * from './remote-jwks.resolver.js';
export * from './remote-revocation.checker.js';
export * from './revocation-list.verifier.js';
export * from './safe-fetch.error.js';
export * from './safe-http.client.js';
export * from './safe-http.interface.js';
export * from './safe-http.options.js';
export * from './scheduler.js';
