// Which option objects reach which routes and Gateways, kept up to date by StateIndex one object at a
// time: options by the object their targetRefs name, and RouteOptions by the routes whose rules name
// them in an ExtensionRef filter. A changed option changes the translation of those objects, so
// StateIndex reports their keys as changed too, and the Translator re-translates exactly what an
// option reaches (a route's Gateways; a Gateway) with its usual change tracking.
import type { ObjectRecord } from './index-state.ts';
import { OPTION_KINDS, type AnyOption, type OptionKind } from './option-objects.ts';
import { GANTRY_GROUP } from './upstream-objects.ts';

export type OptionRecord = ObjectRecord<AnyOption>;

const isOptionKind = (kind: string): kind is OptionKind => (OPTION_KINDS as readonly string[]).includes(kind);

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Oldest first (creationTimestamp), then by namespace/name: the order in which options win. */
function byAge(a: OptionRecord, b: OptionRecord): number {
  const ta = a.parsed.ok ? a.parsed.value.metadata.creationTimestamp ?? '' : '';
  const tb = b.parsed.ok ? b.parsed.value.metadata.creationTimestamp ?? '' : '';
  return cmp(ta, tb) || cmp(`${a.id.namespace}/${a.id.name}`, `${b.id.namespace}/${b.id.name}`);
}

/**
 * "<Kind>/<namespace>/<name>" of what an option's targetRefs name in its own namespace (the same
 * form as StateIndex's change keys). Other namespaces are not allowed, so they reach nothing.
 */
function targetKeys(record: OptionRecord | undefined): string[] {
  if (!record?.parsed.ok) return [];
  const { namespace } = record.id;
  const refs = record.parsed.value.spec.targetRefs.filter((t) => t.namespace === undefined || t.namespace === namespace);
  return [...new Set(refs.map((t) => `${t.kind}/${namespace}/${t.name}`))];
}

interface RuleFilters { filters?: Array<{ type: string; extensionRef?: { group: string; kind: string; name: string } }> }

/** "<namespace>/<name>" of the RouteOptions a route's rules name in ExtensionRef filters. */
function namedOptions(record: ObjectRecord<unknown> | undefined): string[] {
  if (!record?.parsed.ok) return [];
  const rules = (record.parsed.value as { spec: { rules: RuleFilters[] } }).spec.rules;
  const names = rules.flatMap((r) => (r.filters ?? []).flatMap((f) => (
    f.type === 'ExtensionRef' && f.extensionRef?.group === GANTRY_GROUP && f.extensionRef.kind === 'RouteOption' ? [`${record.id.namespace}/${f.extensionRef.name}`] : []
  )));
  return [...new Set(names)];
}

function link<K, V>(map: Map<K, Set<V>>, key: K, value: V, add: boolean): void {
  const set = map.get(key);
  if (add) {
    if (set) set.add(value);
    else map.set(key, new Set([value]));
  } else if (set?.delete(value) && set.size === 0) {
    map.delete(key);
  }
}

const NONE: OptionRecord[] = [];

export class OptionLinks {
  /** Target key → the option records naming it (every option kind). */
  private readonly byTarget = new Map<string, Set<OptionRecord>>();
  /** Target key → its options oldest first, computed on demand and kept while unchanged. */
  private readonly sorted = new Map<string, OptionRecord[]>();
  /** "<namespace>/<name>" of a RouteOption → the route keys whose rules name it. */
  private readonly routesByOption = new Map<string, Set<string>>();

  /**
   * Records that the object `key` ("<Kind>/<namespace>/<name>") went from `before` to `after`, and
   * returns the keys of the other objects whose translation that changes.
   */
  settled(kind: string, key: string, before: ObjectRecord<unknown> | undefined, after: ObjectRecord<unknown> | undefined): string[] {
    if (isOptionKind(kind)) {
      const touched = new Set<string>();
      for (const [record, add] of [[before, false], [after, true]] as const) {
        for (const target of targetKeys(record as OptionRecord | undefined)) {
          link(this.byTarget, target, record as OptionRecord, add);
          this.sorted.delete(target);
          touched.add(target);
        }
      }
      if (kind === 'RouteOption') for (const route of this.routesByOption.get(key.slice(kind.length + 1)) ?? []) touched.add(route);
      return [...touched];
    }
    if (kind === 'HTTPRoute' || kind === 'GRPCRoute') {
      for (const name of namedOptions(before)) link(this.routesByOption, name, key, false);
      for (const name of namedOptions(after)) link(this.routesByOption, name, key, true);
    }
    return [];
  }

  /** The options whose targetRefs name `target` ("<Kind>/<namespace>/<name>"), oldest first. */
  targeting(target: string): OptionRecord[] {
    const records = this.byTarget.get(target);
    if (!records) return NONE; // most routes: nothing cached for them
    let list = this.sorted.get(target);
    if (!list) this.sorted.set(target, (list = [...records].sort(byAge)));
    return list;
  }

  /** Every key some option targets (whether or not the object exists). */
  targets(): IterableIterator<string> {
    return this.byTarget.keys();
  }

  /** The route keys whose rules name the RouteOption "<namespace>/<name>" in an ExtensionRef filter. */
  routesNaming(option: string): ReadonlySet<string> {
    return this.routesByOption.get(option) ?? new Set();
  }

  /** Every route key that names some RouteOption. */
  routesNamingAny(): string[] {
    return [...new Set([...this.routesByOption.values()].flatMap((s) => [...s]))];
  }
}
