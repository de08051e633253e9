import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const root = resolve(process.cwd());
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  type: string;
  exports: Record<string, { types?: string; default?: string } | string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dependencies?: Record<string, string>;
  files: string[];
};

/** Optional peers: each may only be imported from its own subpath. */
const OPTIONAL_PEERS = ['@nestjs/terminus', 'ioredis'];

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module specifier reachable from `entry` through relative imports, with the file importing it. */
function importGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const source = readFileSync(file, 'utf8');
    const specifiers: string[] = [];
    for (const match of source.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      specifiers.push(specifier);
      if (specifier.startsWith('.')) {
        queue.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      }
    }
    seen.set(file, specifiers);
  }
  return seen;
}

function bareImports(entry: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const [file, specifiers] of importGraph(entry)) {
    for (const specifier of specifiers) {
      if (!specifier.startsWith('.') && !found.has(specifier))
        found.set(specifier, relative(root, file));
    }
  }
  return found;
}

const packageOf = (specifier: string) =>
  specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;

describe('package manifest', () => {
  it('is ESM with types + default for each entry and ships dist only', () => {
    expect(manifest.type).toBe('module');
    expect(manifest.files).toEqual(['dist']);
    for (const subpath of ['.', './testing', './health']) {
      expect(manifest.exports[subpath]).toEqual({
        types: expect.stringMatching(/^\.\/dist\/.+\.d\.ts$/),
        default: expect.stringMatching(/^\.\/dist\/.+\.js$/),
      });
    }
    expect(manifest.exports['./package.json']).toBe('./package.json');
  });

  it('maps each subpath onto the source entry that builds it', () => {
    const sources: Record<string, string> = {
      '.': 'lib/index.ts',
      './testing': 'lib/testing/index.ts',
      './health': 'lib/health/index.ts',
    };
    for (const [subpath, source] of Object.entries(sources)) {
      const entry = manifest.exports[subpath] as { default: string };
      expect(entry.default.replace(/^\.\/dist\//, 'lib/').replace(/\.js$/, '.ts')).toBe(source);
    }
  });

  it('declares @nestjs/terminus (and any other optional peer) as optional', () => {
    expect(manifest.peerDependencies['@nestjs/terminus']).toBeDefined();
    for (const peer of OPTIONAL_PEERS) {
      if (manifest.peerDependencies[peer] === undefined) continue;
      expect(manifest.peerDependenciesMeta?.[peer]?.optional).toBe(true);
    }
    for (const peer of ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs']) {
      expect(manifest.peerDependenciesMeta?.[peer]?.optional).not.toBe(true);
      expect(manifest.peerDependencies[peer]).toBeDefined();
    }
  });

  it('never imports an optional peer from the main entry', () => {
    const imports = bareImports(join(root, 'lib/index.ts'));
    expect(imports.size).toBeGreaterThan(0);
    const offending = [...imports].filter(([specifier]) =>
      OPTIONAL_PEERS.includes(packageOf(specifier)),
    );
    expect(offending).toEqual([]);
  });

  it('imports from the main entry only what the package declares', () => {
    const declared = new Set([
      ...Object.keys(manifest.peerDependencies),
      ...Object.keys(manifest.dependencies ?? {}),
    ]);
    for (const [specifier, file] of bareImports(join(root, 'lib/index.ts'))) {
      if (specifier.startsWith('node:')) continue;
      expect({ specifier, file, declared: declared.has(packageOf(specifier)) }).toEqual({
        specifier,
        file,
        declared: true,
      });
    }
  });

  it('keeps @nestjs/terminus in the ./health entry (the check above sees real imports)', () => {
    const imports = bareImports(join(root, 'lib/health/index.ts'));
    expect([...imports.keys()].map(packageOf)).toContain('@nestjs/terminus');
  });
});
