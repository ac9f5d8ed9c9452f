// Runtime descriptors of the Envoy protos listed in protos/envoy-protos.json, loaded once per
// process from @grpc/grpc-js-xds's deps/ folder. The same list feeds the generated TS types.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { ROOT as top } from '../runtime/index.mjs';

export interface ProtoSpec {
  root: string;
  includeDirs: string[];
  files: string[];
}

export function protoSpec(): ProtoSpec {
  return JSON.parse(readFileSync(join(top, 'protos/envoy-protos.json'), 'utf8')) as ProtoSpec;
}

/** Absolute include directories; throws when the pinned package no longer ships them. */
export function envoyIncludeDirs(spec: ProtoSpec = protoSpec()): string[] {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  const base = join(pkgDir, 'deps');
  const dirs = spec.includeDirs.map((d) => join(base, d));
  const missing = dirs.filter((d) => !existsSync(d));
  if (missing.length > 0) {
    throw new Error(`Envoy protos missing from @grpc/grpc-js-xds (layout changed?): ${missing.join(', ')}`);
  }
  return dirs;
}

let cached: protobuf.Root | undefined;

/** The protobufjs root holding every Envoy type Gantry encodes (field names kept in snake_case). */
export function envoyRoot(): protobuf.Root {
  if (cached) return cached;
  const spec = protoSpec();
  // protobufjs ships google/protobuf/descriptor.proto, which the validate/udpa annotations import.
  const pbDir = dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));
  const dirs = [...envoyIncludeDirs(spec), pbDir];
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of dirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    // google/protobuf/*.proto come bundled with protobufjs (protobuf.common).
    return target;
  };
  root.loadSync(spec.files, { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

const types = new Map<string, protobuf.Type>();

export function lookupType(typeName: string): protobuf.Type {
  let type = types.get(typeName);
  if (!type) types.set(typeName, (type = envoyRoot().lookupType(typeName)));
  return type;
}
