import { describe, expect, it } from '@jest/globals';
import { InMemoryRevocationChecker } from '../../lib/core/in-memory-revocation.checker.js';
import { StaticJwksResolver } from '../../lib/core/static-jwks.resolver.js';
import {
  type AdcpSigningModuleOptions,
  resolveAdcpSigningOptions,
} from '../../lib/nest/adcp-signing.options.js';
import { validateSignedRequestOptions } from '../../lib/nest/signed-request.decorator.js';

const J = 'https://b.example/.well-known/jwks.json';
const instances = {
  jwksResolver: new StaticJwksResolver([]),
  revocationChecker: new InMemoryRevocationChecker(),
};

function fieldOf(options: unknown): string {
  try {
    resolveAdcpSigningOptions(options as AdcpSigningModuleOptions);
  } catch (error) {
    return (error as { field?: string }).field ?? `(no field) ${String(error)}`;
  }
  return '(valid)';
}

describe('resolveAdcpSigningOptions', () => {
  it('applies the spec defaults', () => {
    const resolved = resolveAdcpSigningOptions({ ...instances });
    expect(resolved).toMatchObject({
      profile: '3.2',
      capability: { supported: true },
      primePolicy: 'fail',
      publicOrigins: [],
      trustForwardedProto: false,
      network: { allowInsecureDevelopmentFetches: false, extraCaCertificates: [] },
    });
    expect(resolved.resolvedCapability.contentDigestPolicy).toBe('required');
    expect(resolved.resolvedCapability.requiredFor.size).toBe(0);
  });

  it('defaults the revocation list to the well-known path at the agent origin', () => {
    const resolved = resolveAdcpSigningOptions({
      counterparties: [
        { agentUrl: 'https://buyer.example/agents/a', jwksUri: 'https://keys.example/jwks' },
      ],
    });
    expect(resolved.counterparties).toEqual([
      expect.objectContaining({
        agentUrl: 'https://buyer.example/agents/a',
        jwksUri: 'https://keys.example/jwks',
        revocationListUrl: 'https://buyer.example/.well-known/governance-revocations.json',
        publishesNoRevocationList: false,
      }),
    ]);
  });

  const badOptions: [unknown, string][] = [
    [{ ...instances, profile: '4.0' }, 'profile'],
    [{ ...instances, capability: { supported: 'yes' } }, 'capability.supported'],
    [
      { ...instances, capability: { supported: true, required_for: ['tasks/cancel'] } },
      'capability.required_for',
    ],
    [
      {
        ...instances,
        capability: { supported: true, protocol_methods_warn_for: ['create_media_buy'] },
      },
      'capability.protocol_methods_warn_for',
    ],
    [
      {
        ...instances,
        capability: { supported: true, warn_for: ['get_products'], required_for: ['get_products'] },
      },
      'capability.warn_for',
    ],
    [
      { ...instances, capability: { supported: true, required_for: ['create_mediabuy'] } },
      'capability.required_for',
    ],
    [{ ...instances, additionalOperationNames: ['tasks/cancel'] }, 'additionalOperationNames'],
    [{ ...instances, additionalOperationNames: 'future_op' }, 'additionalOperationNames'],
    [
      { ...instances, capability: { supported: true, covers_content_digest: 'either' } },
      'capability.covers_content_digest',
    ],
    [{ ...instances, primePolicy: 'sometimes' }, 'primePolicy'],
    [{ ...instances, jwksResolver: {} }, 'jwksResolver'],
    [{ ...instances, revocationChecker: 42 }, 'revocationChecker'],
    [{ ...instances, replayStore: { isCapReached: () => false } }, 'replayStore'],
    [{ ...instances, clock: {} }, 'clock'],
    [{ ...instances, scheduler: { run: () => {} } }, 'scheduler'],
    [{ ...instances, fallbackCredential: true }, 'fallbackCredential'],
    [{ ...instances, trustForwardedProto: 'yes' }, 'trustForwardedProto'],
    [{ ...instances, publicOrigin: 'https://seller.example.com/adcp' }, 'publicOrigin'],
    [{ ...instances, publicOrigin: ['https://a.example', 'ftp://b.example'] }, 'publicOrigin[1]'],
    [{}, 'counterparties'],
    [
      { counterparties: [{ agentUrl: 'http://buyer.example/a', jwksUri: J }] },
      'counterparties[0].agentUrl',
    ],
    [{ counterparties: [{ agentUrl: 'https://buyer.example/a' }] }, 'counterparties[0]'],
    [
      { counterparties: [{ agentUrl: 'https://b.example/a', jwksUri: 'not a url' }] },
      'counterparties[0].jwksUri',
    ],
    [
      {
        counterparties: [
          { agentUrl: 'https://b.example/a', jwksUri: J },
          { agentUrl: 'https://b.example/a', jwksUri: J, revocationListUrl: 'https://b.example/r' },
        ],
      },
      'counterparties[1].agentUrl',
    ],
    [
      {
        counterparties: [
          {
            agentUrl: 'https://b.example/a',
            jwksUri: J,
            publishesNoRevocationList: true,
            revocationListUrl: 'https://x.example',
          },
        ],
      },
      'counterparties[0].revocationListUrl',
    ],
    [
      { ...instances, network: { allowInsecureDevelopmentFetches: 1 } },
      'network.allowInsecureDevelopmentFetches',
    ],
    [{ ...instances, network: { extraCaCertificates: ['nope'] } }, 'network.extraCaCertificates'],
    [
      // A PEM that is no certificate: refused here, not later by the HTTP client under its own name.
      {
        counterparties: [{ agentUrl: 'https://b.example/a', jwksUri: J }],
        network: {
          extraCaCertificates: ['-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----'],
        },
      },
      'network.extraCaCertificates',
    ],
    // Unknown names are refused, not ignored (TypeScript does not check a forRootAsync factory's result).
    [{ ...instances, replaystore: {} }, 'replaystore'],
    [{ ...instances, globalGuard: false }, 'globalGuard'],
    [
      { ...instances, capability: { supported: true, requiredFor: ['create_media_buy'] } },
      'capability.requiredFor',
    ],
    [
      { ...instances, network: { allowInsecureDevelopmentFetch: true } },
      'network.allowInsecureDevelopmentFetch',
    ],
    [
      {
        counterparties: [
          { agentUrl: 'https://b.example/a', jwksUri: J, revocationJwksURI: 'https://g.example/j' },
        ],
      },
      'counterparties[0].revocationJwksURI',
    ],
    // Both sources given: nothing would be built from these, so setting them is a mistake.
    [
      { ...instances, counterparties: [{ agentUrl: 'https://b.example/a', jwksUri: J }] },
      'counterparties',
    ],
    [{ ...instances, network: { allowInsecureDevelopmentFetches: true } }, 'network'],
  ];
  it.each(badOptions.map(([options, field]) => [field, options] as const))(
    'names the bad field: %s',
    (field, options) => {
      expect(fieldOf(options)).toBe(field);
    },
  );

  it('suggests the option a misspelled name meant, and says where extras go', () => {
    expect(() =>
      resolveAdcpSigningOptions({
        ...instances,
        capability: { supported: true, requiredFor: ['create_media_buy'] },
      } as AdcpSigningModuleOptions),
    ).toThrow('capability.requiredFor: is not an option (did you mean "required_for"?)');
    expect(() =>
      resolveAdcpSigningOptions({ ...instances, isGlobal: false } as AdcpSigningModuleOptions),
    ).toThrow(/isGlobal: is a module extra, not an option: pass it to forRootAsync/);
  });

  it('allows http and loopback counterparties only in development mode', () => {
    const options = {
      counterparties: [
        { agentUrl: 'http://127.0.0.1:4000/agent', jwksUri: 'http://127.0.0.1:4000/jwks' },
      ],
      network: { allowInsecureDevelopmentFetches: true },
    };
    expect(fieldOf(options)).toBe('(valid)');
  });

  it('accepts a legacy posture on a 3.1 module', () => {
    expect(
      fieldOf({
        ...instances,
        profile: '3.1',
        capability: { supported: true, covers_content_digest: 'either' },
      }),
    ).toBe('(valid)');
  });
});

describe('@SignedRequest() options', () => {
  it.each([
    [{ operation: 'tasks/cancel' }, '@SignedRequest().operation'],
    [{ mode: 'always' }, '@SignedRequest().mode'],
    [{ profile: '3.0' }, '@SignedRequest().profile'],
  ])('names the bad option: %#', (options, field) => {
    expect(() => validateSignedRequestOptions(options as never)).toThrow(
      expect.objectContaining({ field }) as never,
    );
  });
});
