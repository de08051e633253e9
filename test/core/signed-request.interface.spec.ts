import { describe, expect, it } from '@jest/globals';
import { headersFromRawHeaders } from '../../lib/core/signed-request.interface.js';

describe('headersFromRawHeaders', () => {
  it('lowercases names and keeps a field received on several lines as an array of its lines', () => {
    const headers = headersFromRawHeaders([
      'Host',
      'seller.example.com',
      'Content-Type',
      'application/json',
      'content-type',
      'text/plain',
      'X-Trace',
      'a',
      'X-TRACE',
      'b',
      'x-trace',
      'c',
    ]);
    expect(headers['host']).toBe('seller.example.com');
    expect(headers['content-type']).toEqual(['application/json', 'text/plain']);
    expect(headers['x-trace']).toEqual(['a', 'b', 'c']);
    // A null-prototype map: a header named like an Object.prototype member is just a header.
    expect(headersFromRawHeaders(['Constructor', 'x'])['constructor']).toBe('x');
  });

  it('refuses a non-string name (untyped callers) instead of coercing it', () => {
    expect(() => headersFromRawHeaders([42, 'x'] as unknown as string[])).toThrow(TypeError);
  });
});
