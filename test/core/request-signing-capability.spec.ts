import { describe, expect, it } from '@jest/globals';
import {
  ADCP_OPERATION_NAMES,
  closestOperationName,
} from '../../lib/core/policy/adcp-operation-names.js';
import { AdcpSigningConfigurationError } from '../../lib/core/policy/configuration.error.js';
import {
  advertisedCapability,
  listModeFor,
  resolveSigningCapability,
} from '../../lib/core/policy/request-signing-capability.js';

function configError(run: () => unknown): AdcpSigningConfigurationError {
  try {
    run();
  } catch (error) {
    if (error instanceof AdcpSigningConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('resolveSigningCapability', () => {
  it('refuses a JSON-RPC method in an AdCP operation list, naming the field', () => {
    const error = configError(() =>
      resolveSigningCapability({ supported: true, required_for: ['tasks/cancel'] }, '3.2'),
    );
    expect(error.field).toBe('request_signing.required_for');
    expect(error.message).toContain('tasks/cancel');
  });

  it('refuses an operation name the AdCP spec does not define, suggesting the closest one (§d.2)', () => {
    const typo = configError(() =>
      resolveSigningCapability({ supported: true, required_for: ['create_mediabuy'] }, '3.2'),
    );
    expect(typo.field).toBe('request_signing.required_for');
    expect(typo.message).toContain('"create_mediabuy" is not an operation the AdCP spec defines');
    expect(typo.message).toContain('did you mean "create_media_buy"?');
    const unknown = configError(() =>
      resolveSigningCapability({ supported: true, supported_for: ['launch_rocket'] }, '3.2'),
    );
    expect(unknown.field).toBe('request_signing.supported_for');
    expect(unknown.message).not.toContain('did you mean');
    // An MCP tool rename or an A2A skill name is not an AdCP operation either.
    expect(
      configError(() =>
        resolveSigningCapability({ supported: true, warn_for: ['createMediaBuy'] }, '3.2'),
      ).field,
    ).toBe('request_signing.warn_for');
  });

  it('accepts every name AdCP 3.0–3.2 defines (and the profile names), and names added by configuration', () => {
    expect(ADCP_OPERATION_NAMES.size).toBe(73);
    const all = [...ADCP_OPERATION_NAMES];
    expect(
      resolveSigningCapability({ supported: true, supported_for: all }, '3.2').supportedFor.size,
    ).toBe(73);
    for (const name of [
      'create_media_buy',
      'buy_products',
      'get_task_status',
      'acquire_rights',
      'update_creative_status',
    ]) {
      expect(ADCP_OPERATION_NAMES.has(name)).toBe(true);
    }
    const resolved = resolveSigningCapability(
      { supported: true, required_for: ['future_operation'] },
      '3.2',
      { additionalOperationNames: ['future_operation'] },
    );
    expect([...resolved.requiredFor]).toEqual(['future_operation']);
    expect(
      configError(() =>
        resolveSigningCapability({ supported: true }, '3.2', {
          additionalOperationNames: ['tasks/cancel'],
        }),
      ).field,
    ).toBe('additionalOperationNames');
  });

  it('suggests only names within two edits', () => {
    expect(closestOperationName('sync_creative')).toBe('sync_creatives');
    expect(closestOperationName('get_product')).toBe('get_products');
    expect(closestOperationName('get_signal')).toBe('get_signals');
    expect(closestOperationName('totally_unrelated_name')).toBeUndefined();
  });

  it('refuses a tool name in a protocol_methods list', () => {
    const error = configError(() =>
      resolveSigningCapability(
        { supported: true, protocol_methods_warn_for: ['create_media_buy'] },
        '3.2',
      ),
    );
    expect(error.field).toBe('request_signing.protocol_methods_warn_for');
  });

  it.each([
    'protocol_methods_required_for',
    'protocol_methods_warn_for',
    'protocol_methods_supported_for',
  ] as const)('refuses tools/call in %s, a list no tools/call body can satisfy (§d.2)', (field) => {
    // Matched literally (as the reference TypeScript client does), it would make every MCP call
    // signature-required; §d.2 forbids matching a tools/call body against these lists, so the entry
    // could only ever look like enforcement. AdCP operations go in required_for instead.
    const error = configError(() =>
      resolveSigningCapability({ supported: true, [field]: ['tools/call'] }, '3.2'),
    );
    expect(error.field).toBe(`request_signing.${field}`);
    expect(error.message).toContain('tools/call');
  });

  it('refuses an operation in both warn_for and required_for', () => {
    const error = configError(() =>
      resolveSigningCapability(
        { supported: true, warn_for: ['sync_creatives'], required_for: ['sync_creatives'] },
        '3.1',
      ),
    );
    expect(error.field).toBe('request_signing.warn_for');
  });

  it('refuses a legacy digest posture on a 3.2 endpoint and defaults 3.1 to "either"', () => {
    expect(
      configError(() =>
        resolveSigningCapability({ supported: true, covers_content_digest: 'either' }, '3.2'),
      ).field,
    ).toBe('request_signing.covers_content_digest');
    expect(resolveSigningCapability({ supported: true }, '3.1').contentDigestPolicy).toBe('either');
    expect(resolveSigningCapability({ supported: true }, '3.2').contentDigestPolicy).toBe(
      'required',
    );
  });

  it('refuses a non-boolean supported and non-array lists', () => {
    expect(configError(() => resolveSigningCapability({} as never, '3.2')).field).toBe(
      'request_signing.supported',
    );
    expect(
      configError(() =>
        resolveSigningCapability({ supported: true, supported_for: 'x' as never }, '3.2'),
      ).field,
    ).toBe('request_signing.supported_for');
  });

  it('applies list precedence and keeps the namespaces apart', () => {
    const capability = resolveSigningCapability(
      {
        supported: true,
        supported_for: ['get_media_buys'],
        warn_for: ['sync_creatives'],
        required_for: ['create_media_buy'],
        protocol_methods_required_for: ['tasks/cancel'],
      },
      '3.2',
    );
    expect(listModeFor(capability, { operation: 'create_media_buy' })).toBe('required_for');
    expect(listModeFor(capability, { operation: 'sync_creatives' })).toBe('warn_for');
    expect(listModeFor(capability, { operation: 'get_media_buys' })).toBe('supported_for');
    expect(listModeFor(capability, { protocolMethod: 'tasks/cancel' })).toBe(
      'protocol_methods_required_for',
    );
    // A tools/call whose params.name equals a listed method never matches the method list.
    expect(listModeFor(capability, { operation: 'tasks/cancel' })).toBeUndefined();
    expect(listModeFor(capability, { operation: 'get_products' })).toBeUndefined();
  });

  it('advertises supported_for as a superset of warn_for and required_for', () => {
    const advertised = advertisedCapability(
      resolveSigningCapability({ supported: true, required_for: ['create_media_buy'] }, '3.2'),
    );
    expect(advertised.supported_for).toContain('create_media_buy');
    expect(advertised.covers_content_digest).toBe('required');
  });
});
