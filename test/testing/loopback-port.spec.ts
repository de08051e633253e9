import { describe, expect, it } from '@jest/globals';
import { freeLoopbackPort } from '../../lib/testing/loopback-port.js';

describe('freeLoopbackPort', () => {
  it('answers a port free on loopback', async () => {
    const port = await freeLoopbackPort();
    expect(port).toBeGreaterThan(0);
  });

  it('refuses to probe on any other address, even through a cast', async () => {
    for (const host of ['0.0.0.0', '::', 'localhost']) {
      await expect(freeLoopbackPort(host as '127.0.0.1')).rejects.toThrow(RangeError);
    }
  });
});
