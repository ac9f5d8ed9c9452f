// deploy/ rendered as CI renders it: `kubectl kustomize <dir>` (kubectl is on these machines; no
// cluster is needed to render). Each directory is rendered and parsed once per test process: the
// objects returned are shared, not to be changed.
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>;
const texts = new Map<string, string>();
const parsed = new Map<string, Obj[]>();

/** The rendered multi-document YAML of `dir`. */
export function kustomize(dir: string): string {
  if (!texts.has(dir)) texts.set(dir, execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }));
  return texts.get(dir)!;
}

/** The rendered objects of `dir`, as on the wire; a document that does not parse throws, naming `dir`. */
export function render(dir: string): readonly Obj[] {
  if (!parsed.has(dir)) {
    parsed.set(dir, parseAllDocuments(kustomize(dir)).map((d) => {
      if (d.errors.length) throw new Error(`${dir}: ${d.errors[0]!.message}`);
      return d.toJS() as Obj;
    }));
  }
  return parsed.get(dir)!;
}
