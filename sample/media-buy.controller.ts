import { Body, Controller, ForbiddenException, Inject, Post } from '@nestjs/common';
import type { VerifiedSigner as VerifiedSignerRecord } from '../lib/core/verified-signer.interface.js';
import { SignedRequest } from '../lib/nest/signed-request.decorator.js';
import { VerifiedSigner } from '../lib/nest/verified-signer.decorator.js';
import { MediaBuyService } from './media-buy.service.js';

@Controller('adcp')
export class MediaBuyController {
  constructor(@Inject(MediaBuyService) private readonly mediaBuys: MediaBuyService) {}

  /** Spend-committing: signed requests only (with `create_media_buy` in `required_for`, the default). */
  @Post('create_media_buy')
  @SignedRequest({ operation: 'create_media_buy' })
  create(@VerifiedSigner() signer: VerifiedSignerRecord | undefined, @Body() body: unknown) {
    // Undefined only if create_media_buy was taken out of ADCP_REQUIRED_FOR: this seller still books
    // spend for signed requests only.
    if (signer === undefined) {
      throw new ForbiddenException('create_media_buy needs a signed request');
    }
    return this.mediaBuys.create(signer, body);
  }
}
