import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import type { AdcpJwk } from '../../lib/core/jwk.interface.js';
import { generateSigningKey, publicJwkOf } from '../../lib/testing/key-generation.js';

const KEYS = new URL('../../../shared/vectors/request-signing/keys.json', import.meta.url);

describe('publicJwkOf', () => {
  it('keeps no private member, the conformance keys’ `_private_d_for_test_only` included', async () => {
    const { keys } = JSON.parse(await readFile(KEYS, 'utf8')) as { keys: AdcpJwk[] };
    for (const key of [...keys, generateSigningKey().privateJwk]) {
      const published = publicJwkOf(key);
      expect(published).not.toHaveProperty('d');
      expect(published).not.toHaveProperty('_private_d_for_test_only');
      expect(published.key_ops).toEqual(['verify']);
    }
  });
});
