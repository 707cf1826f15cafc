/**
 * Registration lifetimes: an indexed binary min-heap of pool elements by
 * the time their registration life ends. Insert, update and remove are
 * O(log n); the earliest is O(1).
 *
 * @module
 */

import type { PoolElementNode } from "./node.ts";

/** Pool elements ordered by `expiresAt`. */
export class ExpiryHeap {
  private readonly heap: PoolElementNode[] = [];

  /** Number of elements. */
  get size(): number {
    return this.heap.length;
  }

  /** The element whose registration ends first. */
  peek(): PoolElementNode | undefined {
    return this.heap[0];
  }

  /** Adds an element, or moves it after its `expiresAt` changed. */
  set(e: PoolElementNode): void {
    if (e.expiryIndex < 0) {
      e.expiryIndex = this.heap.length;
      this.heap.push(e);
      this.up(e.expiryIndex);
    } else {
      this.fix(e.expiryIndex);
    }
  }

  /** Removes an element. */
  delete(e: PoolElementNode): void {
    const i = e.expiryIndex;
    if (i < 0) return;
    const last = this.heap.pop()!;
    e.expiryIndex = -1;
    if (last === e) return;
    this.heap[i] = last;
    last.expiryIndex = i;
    this.fix(i);
  }

  /** Restores the heap order at `i`. */
  private fix(i: number): void {
    const heap = this.heap;
    if (i > 0 && heap[i].expiresAt < heap[(i - 1) >> 1].expiresAt) this.up(i);
    else this.down(i);
  }

  /** Moves the element at `i` towards the root. */
  private up(i: number): void {
    const heap = this.heap;
    const e = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p.expiresAt <= e.expiresAt) break;
      heap[i] = p;
      p.expiryIndex = i;
      i = parent;
    }
    heap[i] = e;
    e.expiryIndex = i;
  }

  /** Moves the element at `i` towards the leaves. */
  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right].expiresAt < heap[left].expiresAt ? right : left;
      const c = heap[child];
      if (c.expiresAt >= e.expiresAt) break;
      heap[i] = c;
      c.expiryIndex = i;
      i = child;
    }
    heap[i] = e;
    e.expiryIndex = i;
  }
}
