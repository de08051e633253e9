import { Body, Controller, Inject, Post } from '@nestjs/common';
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
  create(@VerifiedSigner() signer: VerifiedSignerRecord, @Body() body: unknown) {
    return this.mediaBuys.create(signer, body);
  }
}
