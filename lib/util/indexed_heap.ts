/**
 * An indexed binary min-heap: each item is in it at most once, with a
 * priority that can change. Set, delete and pop are O(log n), the earliest
 * is O(1). Items are keys of a map from item to position, so any value
 * works (objects by identity).
 *
 * @module
 */

/** Items ordered by a number (a deadline, a time of expiry). */
export class IndexedMinHeap<T> {
  private readonly items: T[] = [];
  private readonly priorities: number[] = [];
  private readonly positions = new Map<T, number>();

  /** Number of items. */
  get size(): number {
    return this.items.length;
  }

  /** The item with the lowest priority. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** The lowest priority. */
  peekPriority(): number | undefined {
    return this.priorities[0];
  }

  /** The item's priority, if it is in the heap. */
  priorityOf(item: T): number | undefined {
    const i = this.positions.get(item);
    return i === undefined ? undefined : this.priorities[i];
  }

  /** Adds an item, or moves it to a new priority. */
  set(item: T, priority: number): void {
    const i = this.positions.get(item);
    if (i === undefined) {
      this.items.push(item);
      this.priorities.push(priority);
      this.positions.set(item, this.items.length - 1);
      this.up(this.items.length - 1);
      return;
    }
    const before = this.priorities[i];
    this.priorities[i] = priority;
    if (priority < before) this.up(i);
    else this.down(i);
  }

  /** Removes an item (nothing happens when it is not in the heap). */
  delete(item: T): void {
    const i = this.positions.get(item);
    if (i === undefined) return;
    this.positions.delete(item);
    const lastItem = this.items.pop()!;
    const lastPriority = this.priorities.pop()!;
    if (i === this.items.length) return;
    this.items[i] = lastItem;
    this.priorities[i] = lastPriority;
    this.positions.set(lastItem, i);
    this.up(i);
    this.down(this.positions.get(lastItem)!);
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const priorities = this.priorities;
    [items[a], items[b]] = [items[b], items[a]];
    [priorities[a], priorities[b]] = [priorities[b], priorities[a]];
    this.positions.set(items[a], a);
    this.positions.set(items[b], b);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.priorities[parent] <= this.priorities[i]) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < n && this.priorities[left] < this.priorities[least]) least = left;
      if (right < n && this.priorities[right] < this.priorities[least]) least = right;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }
}
