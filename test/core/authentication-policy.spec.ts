import { describe, expect, it } from '@jest/globals';
import { decideAuthentication } from '../../lib/core/policy/authentication-decision.js';
import { resolveRequestTarget } from '../../lib/core/policy/request-target.resolver.js';
import { carriesWebhookAuthentication } from '../../lib/core/policy/webhook-authentication.trigger.js';

const base = {
  signingSupported: true,
  mode: undefined,
  fallbackAuthenticated: false,
  webhookAuthenticationPresent: false,
} as const;

describe('decideAuthentication', () => {
  it('unsigned: required without fallback rejects, with fallback accepts via fallback', () => {
    expect(
      decideAuthentication({ ...base, mode: 'required_for', signature: { kind: 'absent' } }),
    ).toMatchObject({ action: 'reject', errorCode: 'request_signature_required' });
    expect(
      decideAuthentication({
        ...base,
        mode: 'protocol_methods_required_for',
        fallbackAuthenticated: true,
        signature: { kind: 'absent' },
      }),
    ).toMatchObject({
      action: 'accept',
      authenticationSource: 'fallback',
      verifiedSignerIdentity: false,
    });
  });

  it('unsigned webhook registration with authentication is refused even with a bearer', () => {
    expect(
      decideAuthentication({
        ...base,
        fallbackAuthenticated: true,
        webhookAuthenticationPresent: true,
        signature: { kind: 'absent' },
      }),
    ).toMatchObject({ action: 'reject', errorCode: 'request_signature_required' });
  });

  it('warn mode: an unsigned request is recorded and continues only on the fallback', () => {
    expect(
      decideAuthentication({
        ...base,
        mode: 'protocol_methods_warn_for',
        fallbackAuthenticated: true,
        signature: { kind: 'absent' },
      }),
    ).toMatchObject({
      action: 'accept_with_warning',
      errorCode: 'request_signature_required',
      authenticationSource: 'fallback',
    });
    expect(
      decideAuthentication({ ...base, mode: 'warn_for', signature: { kind: 'absent' } }),
    ).toMatchObject({ action: 'reject_unauthenticated', verifiedSignerIdentity: false });
  });

  it('a malformed pair rejects even in warn mode with a valid fallback', () => {
    expect(
      decideAuthentication({
        ...base,
        mode: 'warn_for',
        fallbackAuthenticated: true,
        signature: { kind: 'malformed' },
      }),
    ).toMatchObject({ action: 'reject', errorCode: 'request_signature_header_malformed' });
  });

  it('warn mode: a failed signature continues only on the fallback, never with an identity', () => {
    const failed = { kind: 'failed', code: 'request_signature_invalid' } as const;
    expect(
      decideAuthentication({
        ...base,
        mode: 'warn_for',
        fallbackAuthenticated: true,
        signature: failed,
      }),
    ).toMatchObject({
      action: 'accept_with_warning',
      authenticationSource: 'fallback',
      verifiedSignerIdentity: false,
    });
    expect(decideAuthentication({ ...base, mode: 'warn_for', signature: failed })).toMatchObject({
      action: 'reject_unauthenticated',
    });
  });

  it('outside warn mode a failed signature rejects with its code whatever the list', () => {
    for (const mode of [undefined, 'supported_for', 'required_for'] as const) {
      expect(
        decideAuthentication({
          ...base,
          mode,
          fallbackAuthenticated: true,
          signature: { kind: 'failed', code: 'request_signature_replayed' },
        }),
      ).toMatchObject({ action: 'reject', errorCode: 'request_signature_replayed' });
    }
  });

  it('signing not supported: signatures are ignored', () => {
    expect(
      decideAuthentication({ ...base, signingSupported: false, signature: { kind: 'malformed' } }),
    ).toMatchObject({ action: 'accept', authenticationSource: 'fallback' });
  });
});

describe('resolveRequestTarget', () => {
  it('takes the operation from an /adcp/<op> path', () => {
    expect(resolveRequestTarget('/adcp/create_media_buy?x=1', undefined)).toEqual({
      operation: 'create_media_buy',
    });
  });
  it('takes a protocol method from a JSON-RPC body, and params.name for tools/call', () => {
    expect(resolveRequestTarget('/mcp', { jsonrpc: '2.0', method: 'tasks/cancel' })).toEqual({
      protocolMethod: 'tasks/cancel',
    });
    expect(
      resolveRequestTarget('/mcp', { method: 'tools/call', params: { name: 'create_media_buy' } }),
    ).toEqual({ operation: 'create_media_buy' });
    expect(resolveRequestTarget('/mcp', { method: 'tools/call', params: {} })).toEqual({});
    expect(resolveRequestTarget('/mcp', [1, 2])).toEqual({});
  });
});

describe('carriesWebhookAuthentication', () => {
  it.each([
    [{ push_notification_config: { url: 'x', authentication: { scheme: 'HMAC-SHA256' } } }, true],
    [{ push_notification_config: { url: 'x', authentication: {} } }, false],
    [{ push_notification_config: { url: 'x' } }, false],
    [{ accounts: [{ notification_configs: [{ authentication: { scheme: 'Bearer' } }] }] }, true],
    [{ notification_configs: [{ url: 'x', authentication: 'token' }] }, true],
    [
      { sync_agent_notification_configs: { notification_configs: [{ authentication: { a: 1 } }] } },
      true,
    ],
    [
      {
        method: 'tools/call',
        params: {
          name: 'update_media_buy',
          arguments: { push_notification_config: { authentication: { s: 1 } } },
        },
      },
      true,
    ],
    ['string body', false],
    [null, false],
  ])('%j → %s', (body, expected) => {
    expect(carriesWebhookAuthentication(body)).toBe(expected);
  });
});
