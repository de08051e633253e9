import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { undefinedOperationNameMessage } from '../core/policy/adcp-operation-names.js';
import { AdcpSigningConfigurationError } from '../core/policy/configuration.error.js';
import { definedOperationNames } from '../core/policy/request-signing-capability.js';
import {
  ADCP_SIGNING_RESOLVED_OPTIONS,
  SIGNED_REQUEST_METADATA,
} from './adcp-signing.constants.js';
import type { ResolvedAdcpSigningOptions } from './adcp-signing.options.js';
import type { SignedRequestOptions } from './signed-request.decorator.js';

/** Per application (its modules container): the names each module instance defines. */
const DEFINED_NAMES_BY_APPLICATION = new WeakMap<ModulesContainer, ReadonlySet<string>[]>();

/**
 * Checks every `@SignedRequest({ operation })` in the application against the AdCP operation names
 * (§d.2) when the module starts. The decorator can only check the syntax (it runs when the class is
 * defined, before the module's `additionalOperationNames` are known), and a typo there is silent at run
 * time: `create_mediabuy` is in no capability list, so the route would accept unsigned requests meant to
 * be `required_for: ['create_media_buy']`. Start-up fails instead, naming the controller and handler.
 *
 * An application may hold several (non-global) module instances with different
 * `additionalOperationNames`; a name any of them defines is accepted (every instance is constructed
 * before the first `onModuleInit`, so each sees the names of all).
 */
@Injectable()
export class SignedRequestRoutesValidator implements OnModuleInit {
  private readonly definedByApplication: ReadonlySet<string>[];

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly metadataScanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ADCP_SIGNING_RESOLVED_OPTIONS) options: ResolvedAdcpSigningOptions,
    @Inject(ModulesContainer) modules: ModulesContainer,
  ) {
    let defined = DEFINED_NAMES_BY_APPLICATION.get(modules);
    if (defined === undefined) {
      defined = [];
      DEFINED_NAMES_BY_APPLICATION.set(modules, defined);
    }
    defined.push(
      definedOperationNames({ additionalOperationNames: options.additionalOperationNames }),
    );
    this.definedByApplication = defined;
  }

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype;
      if (typeof controller !== 'function') continue;
      const className = controller.name || 'anonymous controller';
      this.check(this.metadataOf(controller), className);
      // The prototype, not the instance: request-scoped controllers have no instance yet.
      const prototype = controller.prototype as Record<string, unknown> | undefined;
      if (prototype === undefined || prototype === null) continue;
      for (const method of this.metadataScanner.getAllMethodNames(prototype)) {
        const handler = prototype[method];
        if (typeof handler !== 'function') continue;
        this.check(this.metadataOf(handler), `${className}.${method}`);
      }
    }
  }

  private metadataOf(target: object): SignedRequestOptions | undefined {
    return this.reflector.get<SignedRequestOptions | undefined>(
      SIGNED_REQUEST_METADATA,
      target as Parameters<Reflector['get']>[1],
    );
  }

  private check(options: SignedRequestOptions | undefined, where: string): void {
    const operation = options?.operation;
    if (operation === undefined) return;
    if (this.definedByApplication.some((defined) => defined.has(operation))) return;
    throw new AdcpSigningConfigurationError(
      `@SignedRequest().operation on ${where}`,
      undefinedOperationNameMessage(operation),
    );
  }
}
