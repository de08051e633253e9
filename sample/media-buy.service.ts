import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { RevocationChecker } from '../lib/core/revocation-checker.interface.js';
import type { VerifiedSigner } from '../lib/core/verified-signer.interface.js';

/** The seller's media-buy logic: it receives the verified signer, never a caller-asserted identity. */
@Injectable()
export class MediaBuyService {
  constructor(@Inject(RevocationChecker) private readonly revocation: RevocationChecker) {}

  /**
   * Books the buy for the signing agent. Spend is committed after asynchronous work in a real seller,
   * so the key is checked against the revocation list once more right before committing.
   */
  async create(signer: VerifiedSigner, body: unknown) {
    const status = await this.revocation.checkKey(signer.keyid, signer.agentUrl);
    if (status !== 'ok')
      throw new ConflictException(`signing key is ${status}; not committing spend`);
    return {
      media_buy_id: `mb_${randomUUID()}`,
      status: 'pending_activation',
      buyer_ref:
        typeof body === 'object' && body !== null
          ? (body as { buyer_ref?: unknown }).buyer_ref
          : undefined,
      verified_signer: {
        keyid: signer.keyid,
        agent_url: signer.agentUrl,
        verified_at: new Date(signer.verifiedAt).toISOString(),
      },
    };
  }
}
