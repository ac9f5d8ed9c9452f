// Objects grouped by the owner one of their labels names (EndpointSlices by their Service, discovered
// Upstreams by theirs), so an informer event can tell which owners to look at again: a relabelled
// object moves from one owner to the other and both have changed.
export class OwnerIndex {
  private readonly members = new Map<string, Set<string>>();
  private readonly ownerOf = new Map<string, string>();

  /** Records `key`'s owner (undefined: it has none, or is gone); returns every owner whose members changed. */
  set(key: string, owner: string | undefined): string[] {
    const before = this.ownerOf.get(key);
    if (before === owner) return owner ? [owner] : [];
    if (before) {
      const set = this.members.get(before)!;
      set.delete(key);
      if (set.size === 0) this.members.delete(before);
    }
    if (owner) {
      this.ownerOf.set(key, owner);
      if (!this.members.has(owner)) this.members.set(owner, new Set());
      this.members.get(owner)!.add(key);
    } else this.ownerOf.delete(key);
    return [before, owner].filter((o): o is string => !!o);
  }

  owner(key: string): string | undefined {
    return this.ownerOf.get(key);
  }

  /** The keys whose owner is `owner`. */
  of(owner: string): string[] {
    return [...(this.members.get(owner) ?? [])];
  }

  owners(): string[] {
    return [...this.members.keys()];
  }
}
