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
import { PerApplicationRegistry } from './per-application.registry.js';
import type { SignedRequestOptions } from './signed-request.decorator.js';
import { type MetadataTarget, signedRequestOptionsOf } from './signed-request.metadata.js';

/**
 * The metadata key `@MessagePattern()` and `@EventPattern()` of `@nestjs/microservices` set on a handler
 * (its `PATTERN_METADATA`), read by name: the library does not depend on that package.
 */
const MESSAGE_PATTERN_METADATA = 'microservices:pattern';

/** Per application: the names each module instance defines. */
const DEFINED_NAMES = new PerApplicationRegistry<ReadonlySet<string>>();

/**
 * Checks every `@SignedRequest({ operation })` in the application against the AdCP operation names
 * (§d.2) when the module starts. The decorator can only check the syntax (it runs when the class is
 * defined, before the module's `additionalOperationNames` are known), and a typo there is silent at run
 * time: `create_mediabuy` is in no capability list, so the route would accept unsigned requests meant to
 * be `required_for: ['create_media_buy']`. Start-up fails instead, naming the controller and handler.
 *
 * It also refuses `@SignedRequest()` where no HTTP request reaches it, since such a handler would refuse
 * every call (the guard fails closed outside HTTP): on a provider (a WebSocket gateway, a GraphQL
 * resolver, a service) and on a controller's microservice message handler (`@MessagePattern()`,
 * `@EventPattern()`), including through its controller's decorator.
 *
 * An application may hold several (non-global) module instances with different
 * `additionalOperationNames`; a name any of them defines is accepted (every instance is constructed
 * before the first `onModuleInit`, so each sees the names of all).
 */
@Injectable()
export class SignedRequestRoutesValidator implements OnModuleInit {
  private readonly definedByApplication: readonly ReadonlySet<string>[];

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly metadataScanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ADCP_SIGNING_RESOLVED_OPTIONS) options: ResolvedAdcpSigningOptions,
    @Inject(ModulesContainer) modules: ModulesContainer,
  ) {
    this.definedByApplication = DEFINED_NAMES.register(
      modules,
      definedOperationNames({ additionalOperationNames: options.additionalOperationNames }),
    );
  }

  onModuleInit(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype;
      if (typeof controller !== 'function') continue;
      const className = controller.name || 'anonymous controller';
      this.check(this.metadataOf(controller), className);
      for (const [method, handler] of this.methodsOf(controller)) {
        this.check(this.metadataOf(handler), `${className}.${method}`);
        if (
          this.reflector.get(MESSAGE_PATTERN_METADATA, handler) !== undefined &&
          signedRequestOptionsOf(this.reflector, handler, controller) !== undefined
        ) {
          throw outsideHttp(`${className}.${method}`, 'a microservice message handler');
        }
      }
    }
    for (const wrapper of this.discovery.getProviders()) {
      // The class, not the instance: request-scoped providers have no instance yet.
      const provider = wrapper.metatype;
      if (typeof provider !== 'function' || wrapper.inject) continue;
      const className = provider.name || 'anonymous provider';
      if (this.metadataOf(provider) !== undefined) throw outsideHttp(className, 'a provider');
      for (const [method, handler] of this.methodsOf(provider)) {
        if (this.metadataOf(handler) !== undefined) {
          throw outsideHttp(`${className}.${method}`, 'a provider method');
        }
      }
    }
  }

  /** The methods of a class, read from its prototype (request-scoped classes have no instance yet). */
  private methodsOf(type: MetadataTarget): [string, MetadataTarget][] {
    const prototype = type.prototype as Record<string, unknown> | undefined;
    if (prototype === undefined || prototype === null) return [];
    const methods: [string, MetadataTarget][] = [];
    for (const method of this.metadataScanner.getAllMethodNames(prototype)) {
      const handler = prototype[method];
      if (typeof handler === 'function') methods.push([method, handler as MetadataTarget]);
    }
    return methods;
  }

  private metadataOf(target: MetadataTarget): SignedRequestOptions | undefined {
    return this.reflector.get<SignedRequestOptions | undefined>(SIGNED_REQUEST_METADATA, target);
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

/** `@SignedRequest()` where the guard never sees an HTTP request, so it would refuse every call. */
function outsideHttp(where: string, what: string): AdcpSigningConfigurationError {
  return new AdcpSigningConfigurationError(
    `@SignedRequest() on ${where}`,
    `it verifies HTTP requests only, and this is ${what}, which no HTTP request reaches (a WebSocket ` +
      'gateway, a GraphQL resolver or a microservice handler would refuse every call). Move it to an ' +
      'HTTP controller or handler, or authenticate these calls another way.',
  );
}
