/**
 * Index structures that stay fast under the handlespace's churn.
 *
 * V8's `Map` and `Set` slow down by more than an order of magnitude when
 * entries of a large collection are deleted and re-added continually (at
 * 100,000 entries: ~1.2 million delete-and-insert pairs/s against ~26
 * million when the entry is overwritten instead; measured in
 * docs/performance.md). {@link TombstoneMap} therefore marks removed
 * entries and compacts itself once they outnumber the live ones, and
 * {@link SlotList} keeps members in an array with their slot stored on the
 * member.
 *
 * @module
 */

/** A map whose deletions leave tombstones, compacted in amortised O(1). */
export class TombstoneMap<K, V> {
  private map = new Map<K, V | undefined>();
  private live = 0;
  private dead = 0;

  /** Number of live entries. */
  get size(): number {
    return this.live;
  }

  /** The value of a key. */
  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Whether a key has a value. */
  has(key: K): boolean {
    return this.map.get(key) !== undefined;
  }

  /** Sets a value (never `undefined`). */
  set(key: K, value: V): void {
    const previous = this.map.get(key);
    if (previous === undefined) {
      if (this.map.has(key)) this.dead--;
      this.live++;
    }
    this.map.set(key, value);
  }

  /** Deletes `key` if it maps to `value` (one lookup fewer than get and delete); returns whether it did. */
  deleteValue(key: K, value: V): boolean {
    if (this.map.get(key) !== value || value === undefined) return false;
    this.map.set(key, undefined);
    this.live--;
    this.dead++;
    if (this.dead > 1024 && this.dead > this.live) this.compact();
    return true;
  }

  /** Removes a key; returns whether it had a value. */
  delete(key: K): boolean {
    if (this.map.get(key) === undefined) return false;
    this.map.set(key, undefined);
    this.live--;
    this.dead++;
    if (this.dead > 1024 && this.dead > this.live) this.compact();
    return true;
  }

  /** The live values, in insertion order. */
  *values(): IterableIterator<V> {
    for (const v of this.map.values()) if (v !== undefined) yield v;
  }

  /** The live keys, in insertion order. */
  *keys(): IterableIterator<K> {
    for (const [k, v] of this.map) if (v !== undefined) yield k;
  }

  /** Rebuilds the map without tombstones. */
  private compact(): void {
    const map = new Map<K, V>();
    for (const [k, v] of this.map) if (v !== undefined) map.set(k, v);
    this.map = map;
    this.dead = 0;
  }
}

/** A member of {@link SlotList}s: one slot per list kind it can be in. */
export interface Slotted {
  /** Slots, by list kind. */
  readonly slots: number[];
}

/** An unordered list of members, O(1) add and remove by the slot stored on the member. */
export class SlotList<T extends Slotted> {
  private readonly items: T[] = [];

  /**
   * Creates an empty list.
   *
   * @param kind which of the member's slots this list uses
   */
  constructor(private readonly kind: number) {}

  /** Number of members. */
  get size(): number {
    return this.items.length;
  }

  /** Adds a member (not already in the list). */
  add(item: T): void {
    item.slots[this.kind] = this.items.length;
    this.items.push(item);
  }

  /** Removes a member of the list. */
  remove(item: T): void {
    const i = item.slots[this.kind];
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[i] = last;
      last.slots[this.kind] = i;
    }
    item.slots[this.kind] = -1;
  }

  /** The members (do not modify the list while iterating). */
  values(): readonly T[] {
    return this.items;
  }
}

/** Adds to the list of `key` in `index`, creating it. */
export function addToList<K, T extends Slotted>(
  index: Map<K, SlotList<T>>,
  kind: number,
  key: K,
  item: T,
): void {
  let list = index.get(key);
  if (list === undefined) {
    list = new SlotList(kind);
    index.set(key, list);
  }
  list.add(item);
}

/** Removes from the list of `key` in `index`, dropping an emptied list. */
export function removeFromList<K, T extends Slotted>(
  index: Map<K, SlotList<T>>,
  key: K,
  item: T,
): void {
  const list = index.get(key);
  if (list === undefined) return;
  list.remove(item);
  if (list.size === 0) index.delete(key);
}
