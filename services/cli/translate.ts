// `gantry translate`: offline translation, no server. stdout carries only the result
// ({"objects": [...], "xds": {...}}); problems go to stderr as log lines.
import { readFile, stat } from 'node:fs/promises';
import { stringify } from 'yaml';
import { loadManifestDir, parseManifestText, type ManifestObject, type ManifestProblem } from '../../libs/manifests/index.ts';
import { createLogger } from '../../libs/service/index.ts';
import { localAddresses } from '../../libs/service/local-addresses.ts';
import { encodeGatewaySnapshot, snapshotToJson } from '../../libs/snapshots/encode.ts';
import { translate } from '../../libs/translator/index.ts';
import { buildTranslatorInput, isRoutingObject } from '../../libs/world/from-manifests.ts';

export interface TranslateCliOptions {
  paths: string[];
  controllerName: string;
  output: 'json' | 'yaml';
  defaultAddress: string;
}

async function readPath(path: string): Promise<{ objects: ManifestObject[]; problems: ManifestProblem[] }> {
  const info = await stat(path);
  if (info.isDirectory()) return loadManifestDir(path);
  return parseManifestText(await readFile(path, 'utf8'), path);
}

export async function runTranslate(opts: TranslateCliOptions): Promise<number> {
  const log = createLogger('gantry-translate', process.env.GANTRY_LOG_LEVEL ?? 'warn');
  const objects: ManifestObject[] = [];
  for (const path of opts.paths) {
    let read;
    try {
      read = await readPath(path);
    } catch (err) {
      process.stderr.write(`gantry translate: cannot read ${path}: ${(err as Error).message}\n`);
      return 1;
    }
    const syntax = read.problems.filter((p) => p.severity !== 'shape');
    if (syntax.length > 0) {
      for (const p of syntax) process.stderr.write(`gantry translate: ${p.path} document ${p.document}: ${p.message}\n`);
      return 1;
    }
    for (const p of read.problems) log.warn({ file: p.path, document: p.document }, p.message);
    objects.push(...read.objects);
  }

  const input = buildTranslatorInput(objects, 'local');
  const result = translate(input, {
    controllerName: opts.controllerName, defaultAddress: opts.defaultAddress, now: new Date().toISOString(),
    usableAddresses: localAddresses(),
  });
  const statuses = new Map(result.reports.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r.status]));
  const out = {
    objects: input.objects
      .map((o) => o.object)
      .filter(isRoutingObject)
      .map((o) => {
        const status = statuses.get(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
        return status ? { ...o, status } : o;
      }),
    xds: Object.fromEntries(
      [...result.snapshots.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([gw, snap]) => [gw, snapshotToJson(encodeGatewaySnapshot(snap))]),
    ),
  };
  process.stdout.write(opts.output === 'json' ? `${JSON.stringify(out, null, 2)}\n` : stringify(out));
  return 0;
}
