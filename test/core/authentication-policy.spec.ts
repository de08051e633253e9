import { describe, expect, it } from '@jest/globals';
import { readBodyLikeTheApplication } from '../../lib/core/policy/application-body.reader.js';
import {
  decideAuthentication,
  needsFallbackCredential,
  type PolicyFacts,
  type SignatureState,
} from '../../lib/core/policy/authentication-decision.js';
import {
  SIGNING_LIST_MODES,
  type SigningListMode,
} from '../../lib/core/policy/request-signing-capability.js';
import {
  resolveRequestTargets,
  routeOperationOf,
} from '../../lib/core/policy/request-target.resolver.js';
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

describe('needsFallbackCredential', () => {
  const modes: (SigningListMode | undefined)[] = [undefined, ...SIGNING_LIST_MODES];
  const signatures: SignatureState[] = [
    { kind: 'absent' },
    { kind: 'malformed' },
    { kind: 'failed', code: 'request_signature_invalid' },
    { kind: 'verified' },
  ];
  const everyFact: Omit<PolicyFacts, 'fallbackAuthenticated'>[] = [true, false].flatMap(
    (signingSupported) =>
      [true, false].flatMap((webhookAuthenticationPresent) =>
        modes.flatMap((mode) =>
          signatures.map((signature) => ({
            signingSupported,
            webhookAuthenticationPresent,
            mode,
            signature,
          })),
        ),
      ),
  );

  it('is true exactly where the fallback answer changes the decision (every combination)', () => {
    expect(everyFact).toHaveLength(112);
    for (const facts of everyFact) {
      const withFallback = decideAuthentication({ ...facts, fallbackAuthenticated: true });
      const without = decideAuthentication({ ...facts, fallbackAuthenticated: false });
      expect({ facts, needed: needsFallbackCredential(facts) }).toEqual({
        facts,
        needed: JSON.stringify(withFallback) !== JSON.stringify(without),
      });
    }
  });

  it('is false for an unlisted unsigned request, a verified one and a webhook registration', () => {
    const unsigned = { signingSupported: true, webhookAuthenticationPresent: false } as const;
    expect(
      needsFallbackCredential({ ...unsigned, mode: undefined, signature: { kind: 'absent' } }),
    ).toBe(false);
    expect(
      needsFallbackCredential({ ...unsigned, mode: 'warn_for', signature: { kind: 'verified' } }),
    ).toBe(false);
    expect(
      needsFallbackCredential({
        ...unsigned,
        webhookAuthenticationPresent: true,
        mode: 'required_for',
        signature: { kind: 'absent' },
      }),
    ).toBe(false);
    expect(
      needsFallbackCredential({ ...unsigned, mode: 'required_for', signature: { kind: 'absent' } }),
    ).toBe(true);
  });
});

describe('decideAuthentication with the webhook-registration trigger', () => {
  it('a failed signature on such a body rejects with its code, even in warn mode with a bearer', () => {
    expect(
      decideAuthentication({
        ...base,
        mode: 'warn_for',
        fallbackAuthenticated: true,
        webhookAuthenticationPresent: true,
        signature: { kind: 'failed', code: 'request_signature_invalid' },
      }),
    ).toEqual({
      action: 'reject',
      errorCode: 'request_signature_invalid',
      verifiedSignerIdentity: false,
    });
  });
});

describe('routeOperationOf (read as loosely as any router, never more strictly)', () => {
  it.each([
    ['/adcp/create_media_buy', 'create_media_buy'],
    ['/adcp/create%5Fmedia%5Fbuy', 'create_media_buy'],
    ['/adcp/%63reate_media_buy?x=%2F', 'create_media_buy'],
    ['/adcp/./create_media_buy', 'create_media_buy'],
    ['/adcp/other/../create_media_buy', 'create_media_buy'],
    ['/adcp/other/%2E%2E/create_media_buy', 'create_media_buy'],
    ['/ADCP/Create_Media_Buy', 'create_media_buy'],
    ['/adcp//create_media_buy//', 'create_media_buy'],
    ['/v1/adcp/create_media_buy#frag', 'create_media_buy'],
    ['/adcp/create%2Fmedia_buy', undefined],
    ['/adcp/', undefined],
    ['/adcp/a/b', undefined],
    ['/mcp', undefined],
    ['/adcp%2Fcreate_media_buy', 'create_media_buy'],
  ])('%s → %s', (path, expected) => {
    expect(routeOperationOf(path)).toBe(expected);
  });
});

describe('resolveRequestTargets', () => {
  it('gives one target per call of a JSON-RPC batch', () => {
    const call = (name: string) => ({ method: 'tools/call', params: { name } });
    expect(
      resolveRequestTargets('/mcp', [call('get_products'), { method: 'tasks/cancel' }]),
    ).toEqual([{ operation: 'get_products' }, { protocolMethod: 'tasks/cancel' }]);
    expect(resolveRequestTargets('/mcp', [])).toEqual([{}]);
    expect(resolveRequestTargets('/adcp/sync_creatives', [call('x')])).toEqual([
      { operation: 'sync_creatives' },
      { operation: 'x' },
    ]);
  });

  it('keeps the calls a body names under an /adcp/ path (a JSON-RPC endpoint at /adcp/mcp)', () => {
    const call = { method: 'tools/call', params: { name: 'create_media_buy' } };
    expect(resolveRequestTargets('/adcp/mcp', call)).toEqual([
      { operation: 'mcp' },
      { operation: 'create_media_buy' },
    ]);
    expect(resolveRequestTargets('/adcp/a2a', [{ method: 'tasks/cancel' }])).toEqual([
      { operation: 'a2a' },
      { protocolMethod: 'tasks/cancel' },
    ]);
    // A REST payload names no call: the route's operation alone.
    expect(resolveRequestTargets('/adcp/create_media_buy', { plan_id: 'p' })).toEqual([
      { operation: 'create_media_buy' },
    ]);
  });
});

describe('resolveRequestTargets and A2A messages', () => {
  const message = (...skills: unknown[]) => ({
    parts: [{ text: 'hi' }, ...skills.map((skill) => ({ data: { skill, input: {} } }))],
  });

  it('reads each DataPart skill as an operation, beside the JSON-RPC method', () => {
    expect(
      resolveRequestTargets('/a2a', { method: 'message/send', params: { message: message('x') } }),
    ).toEqual([{ protocolMethod: 'message/send' }, { operation: 'x' }]);
    // The HTTP+JSON binding posts the message without an envelope; parts keyed by index count too.
    expect(
      resolveRequestTargets('/adcp/a2a', {
        message: { parts: { 0: { data: { skill: 'create_media_buy' } } } },
      }),
    ).toEqual([{ operation: 'a2a' }, { operation: 'create_media_buy' }]);
    expect(
      resolveRequestTargets('/a2a', {
        method: 'SendMessage',
        params: { message: message('get_products', ['create_media_buy']) },
      }),
    ).toEqual([
      { protocolMethod: 'SendMessage' },
      { operation: 'get_products' },
      { operation: 'create_media_buy' },
    ]);
  });

  it('ignores parts that name no skill', () => {
    expect(
      resolveRequestTargets('/a2a', { method: 'SendMessage', params: { message: message(7) } }),
    ).toEqual([{ protocolMethod: 'SendMessage' }]);
    expect(resolveRequestTargets('/a2a', { message: { parts: [{ data: 'skill' }] } })).toEqual([
      {},
    ]);
  });
});

describe('readBodyLikeTheApplication', () => {
  const rpc = '{"method":"tools/call","params":{"name":"create_media_buy"}}';
  const value = JSON.parse(rpc);

  it('reads UTF-8 JSON, with or without a byte order mark', () => {
    expect(readBodyLikeTheApplication(Buffer.from(rpc), 'application/json')).toEqual({
      kind: 'json',
      value,
    });
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(rpc)]);
    expect(readBodyLikeTheApplication(withBom, 'application/json')).toEqual({
      kind: 'json',
      value,
    });
  });

  it('honours the declared charset', () => {
    expect(
      readBodyLikeTheApplication(
        Buffer.from(rpc, 'utf16le'),
        'application/json; Charset="UTF-16LE"',
      ),
    ).toEqual({ kind: 'json', value });
  });

  it('an unknown charset, invalid or duplicate-key JSON is unreadable (the caller fails closed)', () => {
    expect(
      readBodyLikeTheApplication(Buffer.from(rpc), 'application/json; charset=x-nope'),
    ).toEqual({ kind: 'unreadable', reason: 'unsupported charset' });
    expect(readBodyLikeTheApplication(Buffer.from('{"a":1,"a":2}'), 'application/json')).toEqual({
      kind: 'unreadable',
      reason: 'not strict JSON (duplicate_keys)',
    });
    expect(readBodyLikeTheApplication(Buffer.from('{"a":'), undefined)).toMatchObject({
      kind: 'unreadable',
    });
    // JSON-looking text under another media type could still reach a permissive parser.
    expect(readBodyLikeTheApplication(Buffer.from('[1,'), 'text/plain')).toMatchObject({
      kind: 'unreadable',
    });
  });

  it('a body that neither is nor claims to be JSON is none; JSON under any media type is read', () => {
    expect(
      readBodyLikeTheApplication(Buffer.from('a=1&b=2'), 'application/x-www-form-urlencoded'),
    ).toEqual({ kind: 'none' });
    expect(readBodyLikeTheApplication(Buffer.from(rpc), 'text/plain')).toEqual({
      kind: 'json',
      value,
    });
    expect(readBodyLikeTheApplication(undefined, 'application/json')).toEqual({ kind: 'none' });
    expect(readBodyLikeTheApplication(new Uint8Array(0), undefined)).toEqual({ kind: 'none' });
  });
});

describe('resolveRequestTargets on a single call', () => {
  const targetOf = (path: string, body: unknown) => {
    const targets = resolveRequestTargets(path, body);
    expect(targets).toHaveLength(1);
    return targets[0];
  };
  it('takes the operation from an /adcp/<op> path', () => {
    expect(targetOf('/adcp/create_media_buy?x=1', undefined)).toEqual({
      operation: 'create_media_buy',
    });
  });
  it('takes a protocol method from a JSON-RPC body, and params.name for tools/call', () => {
    expect(targetOf('/mcp', { jsonrpc: '2.0', method: 'tasks/cancel' })).toEqual({
      protocolMethod: 'tasks/cancel',
    });
    expect(
      targetOf('/mcp', { method: 'tools/call', params: { name: 'create_media_buy' } }),
    ).toEqual({ operation: 'create_media_buy' });
    expect(targetOf('/mcp', { method: 'tools/call', params: {} })).toEqual({});
    expect(resolveRequestTargets('/mcp', [1, 2])).toEqual([{}]);
  });
  it('reads a name wrapped in single-element arrays, as loose comparison and indexing do', () => {
    expect(
      targetOf('/mcp', {
        method: 'tools/call',
        params: { name: ['create_media_buy'] },
      }),
    ).toEqual({ operation: 'create_media_buy' });
    expect(targetOf('/mcp', { method: ['tasks/cancel'] })).toEqual({
      protocolMethod: 'tasks/cancel',
    });
    expect(targetOf('/mcp', { method: ['tools/call'], params: { name: 'x' } })).toEqual({
      operation: 'x',
    });
    expect(
      targetOf('/mcp', {
        method: 'tools/call',
        params: { name: [['create_media_buy']] },
      }),
    ).toEqual({ operation: 'create_media_buy' });
    // Longer arrays, objects and numbers name nothing a handler could dispatch on; nothing is
    // converted, so a JSON key "toString" cannot make the reading throw.
    expect(targetOf('/mcp', { method: ['card', 'paypal'] })).toEqual({});
    expect(targetOf('/mcp', { method: [{ toString: 1 }] })).toEqual({});
    expect(
      targetOf('/mcp', { method: 'tools/call', params: { name: [{ toString: 'x' }] } }),
    ).toEqual({});
    expect(targetOf('/mcp', { method: { type: 'card' } })).toEqual({});
    expect(targetOf('/mcp', { method: 7 })).toEqual({});
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
    // An A2A profile invocation carries the AdCP task request in a DataPart's `input` (AdCP 3.2) or
    // `parameters` (3.0/3.1), over JSON-RPC (`params.message`) or the HTTP+JSON binding (`message`).
    [
      {
        jsonrpc: '2.0',
        method: 'SendMessage',
        params: {
          message: {
            parts: [
              { text: 'AdCP task: update_media_buy' },
              {
                data: {
                  skill: 'update_media_buy',
                  input: { push_notification_config: { authentication: { s: 1 } } },
                },
              },
            ],
          },
        },
      },
      true,
    ],
    [
      {
        method: 'message/send',
        params: {
          message: {
            parts: [
              {
                kind: 'data',
                data: {
                  skill: 'sync_accounts',
                  parameters: { accounts: [{ notification_configs: [{ authentication: 'b' }] }] },
                },
              },
            ],
          },
        },
      },
      true,
    ],
    [
      {
        message: {
          parts: [
            { data: { skill: 'x', input: { push_notification_config: { authentication: 'b' } } } },
          ],
        },
      },
      true,
    ],
    [
      {
        method: 'SendMessage',
        params: {
          message: {
            parts: [{ data: { skill: 'x', input: { push_notification_config: { url: 'u' } } } }],
          },
        },
      },
      false,
    ],
    // Lists keyed by index (a form parser's object past its array limit) are read by their values.
    [{ accounts: { 150: { notification_configs: { 0: { authentication: { s: 1 } } } } } }, true],
    [{ notification_configs: { 3: { authentication: 'token' } } }, true],
    [{ notification_configs: { 3: { url: 'x' } } }, false],
    // A named map in a seller's own API is not a list.
    [{ notification_configs: { slack: { authentication: { token: 'x' } } } }, false],
    [{ accounts: { acme: { notification_configs: [{ authentication: 'basic' }] } } }, false],
    [{ notification_configs: { 0: { authentication: 'a' }, slack: {} } }, false],
    ['string body', false],
    [null, false],
  ])('%j → %s', (body, expected) => {
    expect(carriesWebhookAuthentication(body)).toBe(expected);
  });
});
