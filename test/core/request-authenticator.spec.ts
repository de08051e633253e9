import { describe, expect, it } from '@jest/globals';
import { RequestAuthenticator } from '../../lib/core/request-authenticator.js';
import type { SignedRequestInput } from '../../lib/core/signed-request.interface.js';
import { generateSigningKey } from '../../lib/testing/key-generation.js';
import { makeVerifier } from '../support/verifier-fixture.js';

const key = generateSigningKey({ kid: 'k1' });

function authenticator() {
  const { verifier } = makeVerifier({
    keys: [key.publicJwk],
    capability: {
      supported: true,
      required_for: ['create_media_buy'],
      warn_for: ['update_media_buy'],
      protocol_methods_required_for: ['tasks/cancel'],
    },
  });
  return new RequestAuthenticator(verifier);
}

/** An unsigned POST to /mcp whose bytes are a form (no JSON for the policy to read). */
function formPost(form: string): SignedRequestInput {
  return {
    method: 'POST',
    url: 'https://seller.example/mcp',
    headers: {
      host: 'seller.example',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: Buffer.from(form),
  };
}

describe('RequestAuthenticator and the body as the application parsed it', () => {
  it('judges an unsigned request on the parsed body too: the strictest reading wins', async () => {
    const auth = authenticator();
    const request = formPost('method=tools/call&params[name]=create_media_buy');
    // The bytes alone name nothing.
    expect((await auth.authenticate(request)).action).toBe('accept');
    const outcome = await auth.authenticate(request, {
      parsedBody: { method: 'tools/call', params: { name: 'create_media_buy' } },
    });
    expect(outcome).toMatchObject({
      action: 'reject',
      errorCode: 'request_signature_required',
      target: { operation: 'create_media_buy' },
    });
    expect(
      await auth.authenticate(formPost('method=tasks/cancel'), {
        parsedBody: { method: 'tasks/cancel' },
      }),
    ).toMatchObject({ action: 'reject', target: { protocolMethod: 'tasks/cancel' } });
  });

  it('applies the webhook-registration trigger to the parsed body, bearer or not', async () => {
    const outcome = await authenticator().authenticate(formPost('x=1'), {
      parsedBody: { push_notification_config: { authentication: { credentials: 'c' } } },
      fallbackAuthenticated: true,
    });
    expect(outcome).toMatchObject({
      action: 'reject',
      errorCode: 'request_signature_required',
      webhookAuthenticationPresent: true,
    });
  });

  it('holds an A2A invocation to the list of the operation its DataPart names as the skill', async () => {
    // §d.2 [gap]: A2A skills map to AdCP operation names in the adapter; the AdCP A2A profile uses the
    // operation name as the skill, so an unsigned create_media_buy over A2A is held to required_for.
    const a2a = (skill: string, url: string) => ({
      method: 'POST',
      url,
      headers: { host: 'seller.example', 'content-type': 'application/json' },
      body: Buffer.from(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'SendMessage',
          params: {
            message: {
              role: 'ROLE_USER',
              parts: [{ text: 'buy' }, { data: { skill, input: { plan_id: 'p' } } }],
            },
          },
        }),
      ),
    });
    const auth = authenticator();
    for (const url of ['https://seller.example/a2a', 'https://seller.example/adcp/a2a']) {
      expect(await auth.authenticate(a2a('create_media_buy', url))).toMatchObject({
        action: 'reject',
        errorCode: 'request_signature_required',
      });
      // A skill in no list goes on unsigned, for the application's other guards to authenticate.
      expect((await auth.authenticate(a2a('get_products', url))).action).toBe('accept');
    }
    // The fallback credential of §d.5 still composes with it.
    expect(
      (
        await auth.authenticate(a2a('create_media_buy', 'https://seller.example/a2a'), {
          fallbackAuthenticated: true,
        })
      ).action,
    ).toBe('accept');
  });

  it('applies the trigger to an A2A invocation (the task request in a DataPart), bearer or not', async () => {
    // §c.1 P-a.1: the registration is push_notification_config in the typed AdCP task request, which
    // A2A carries in `parts[].data.input`; neither a listed operation nor a missing bearer is needed.
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'SendMessage',
      params: {
        message: {
          role: 'ROLE_USER',
          parts: [
            {
              data: {
                skill: 'get_products',
                input: {
                  brief: 'x',
                  push_notification_config: {
                    url: 'https://buyer.example/hook',
                    authentication: { schemes: ['HMAC-SHA256'], credentials: 'c'.repeat(32) },
                  },
                },
              },
            },
          ],
        },
      },
    });
    const outcome = await authenticator().authenticate(
      {
        method: 'POST',
        url: 'https://seller.example/a2a',
        headers: { host: 'seller.example', 'content-type': 'application/json' },
        body: Buffer.from(body),
      },
      { fallbackAuthenticated: true },
    );
    expect(outcome).toMatchObject({
      action: 'reject',
      errorCode: 'request_signature_required',
      webhookAuthenticationPresent: true,
    });
  });

  it('ignores parsed bodies that are bytes or text (the JSON reading of the bytes covers them)', async () => {
    const auth = authenticator();
    for (const parsedBody of [
      Buffer.from('{"method":"tasks/cancel"}'),
      new Uint8Array(4),
      '{"method":"tasks/cancel"}',
      null,
    ]) {
      expect((await auth.authenticate(formPost('a=b'), { parsedBody })).action).toBe('accept');
    }
  });
});

describe('RequestAuthenticator and hostile parsed bodies', () => {
  it('reads a batch of any size without overflowing the stack', async () => {
    const batch = new Array(200_000).fill(0);
    batch.push({ method: 'tasks/cancel' });
    expect(
      await authenticator().authenticate(formPost('a=b'), { parsedBody: batch }),
    ).toMatchObject({ action: 'reject', target: { protocolMethod: 'tasks/cancel' } });
  });

  it('never throws on a JSON body whose names are objects with a "toString" key', async () => {
    const request: SignedRequestInput = {
      ...formPost(''),
      headers: { host: 'seller.example', 'content-type': 'application/json' },
      body: Buffer.from('{"method":"tools/call","params":{"name":[{"toString":"x"}]}}'),
    };
    expect((await authenticator().authenticate(request)).action).toBe('accept');
  });

  it('fails closed when the parsed body cannot be read (a throwing getter set by middleware)', async () => {
    const hostile = Object.defineProperty({}, 'method', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(
      await authenticator().authenticate(formPost('a=b'), {
        parsedBody: hostile,
        fallbackAuthenticated: true,
      }),
    ).toMatchObject({ action: 'reject', errorCode: 'request_signature_required' });
  });
});

describe('RequestAuthenticator and a JSON-RPC endpoint mounted under /adcp/', () => {
  const rpc = (path: string, body: string): SignedRequestInput => ({
    method: 'POST',
    url: `https://seller.example${path}`,
    headers: { host: 'seller.example', 'content-type': 'application/json' },
    body: Buffer.from(body),
  });

  it.each(['/adcp/mcp', '/adcp/a2a', '/v1/adcp/mcp/'])(
    'an unsigned tools/call of a required operation at %s is refused',
    async (path) => {
      const body =
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_media_buy"}}';
      expect(await authenticator().authenticate(rpc(path, body))).toMatchObject({
        action: 'reject',
        errorCode: 'request_signature_required',
        target: { operation: 'create_media_buy' },
      });
    },
  );

  it('a required protocol method in a batch at /adcp/mcp is refused; a REST body is not a call', async () => {
    const batch = '[{"jsonrpc":"2.0","id":1,"method":"tasks/cancel","params":{}}]';
    expect(await authenticator().authenticate(rpc('/adcp/mcp', batch))).toMatchObject({
      action: 'reject',
      target: { protocolMethod: 'tasks/cancel' },
    });
    expect(
      await authenticator().authenticate(rpc('/adcp/get_products', '{"brief":"x"}')),
    ).toMatchObject({ action: 'accept', target: { operation: 'get_products' } });
  });
});

describe('RequestAuthenticator and the fallback credential', () => {
  it('asks for it only when the list policy needs the answer', async () => {
    const auth = authenticator();
    let asked = 0;
    const fallbackAuthenticated = () => {
      asked++;
      return true;
    };
    const unlisted = formPost('a=b');
    expect((await auth.authenticate(unlisted, { fallbackAuthenticated })).action).toBe('accept');
    expect(asked).toBe(0);
    const required = await auth.authenticate(unlisted, {
      parsedBody: { method: 'tasks/cancel' },
      fallbackAuthenticated,
    });
    expect(required).toMatchObject({ action: 'accept', authenticationSource: 'fallback' });
    expect(asked).toBe(1);
  });

  it('does not ask for it on a webhook registration, whose answer cannot help', async () => {
    let asked = 0;
    await authenticator().authenticate(formPost('x=1'), {
      parsedBody: {
        method: 'tasks/cancel',
        push_notification_config: { authentication: { credentials: 'c' } },
      },
      fallbackAuthenticated: () => {
        asked++;
        return true;
      },
    });
    expect(asked).toBe(0);
  });
});
