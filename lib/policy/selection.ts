/**
 * Per-pool selection structures, one per {@link SelectionKind}, each
 * implementing RSPLIB's two selection procedures:
 *
 * - In order (round robin and the ordered policies): take the first N
 *   elements in the policy's order; then move on the first
 *   min(N, maxIncrement) of them: give them a new sequence number (to the
 *   end of their round-robin order) and apply the policy's update (e.g.
 *   degradation).
 * - At random (uniform and weighted): draw N distinct elements one after
 *   the other, each with probability proportional to its value among those
 *   not drawn yet; apply the update to the first maxIncrement drawn.
 *
 * Costs: round robin O(N); ordered O(N log N + min(N, maxIncrement)·log n);
 * uniform O(N); weighted O(N log n). Insert, remove and re-sort are O(1) for
 * round robin and uniform, O(log n) otherwise.
 *
 * @module
 */

import type { PolicyEntry } from "./entry.ts";
import type { PolicyBehaviour } from "./policies.ts";
import { randomBelow, type RandomSource } from "./random.ts";

/** The selection state of one pool. */
export abstract class Selection {
  /** The pool's policy. */
  readonly behaviour: PolicyBehaviour;
  /** Next sequence number to hand out (RSPLIB's `GlobalSeqNumber`). */
  protected sequence = 0;

  /**
   * Creates an empty selection.
   *
   * @param behaviour the pool's policy
   */
  constructor(behaviour: PolicyBehaviour) {
    this.behaviour = behaviour;
  }

  /** Number of linked elements. */
  abstract get size(): number;

  /**
   * Links a new element: it gets the next sequence number and the policy's
   * initial state (RSPLIB `poolNodeAddPoolElementNode`).
   */
  insert(e: PolicyEntry): void {
    e.seq = this.sequence++;
    e.degradation = 0;
    e.selectionCounter = 0;
    e.roundCounter = 0;
    e.virtualCounter = 0;
    this.initialize(e);
    this.link(e);
  }

  /** Policy-specific initial state (WRR). */
  protected initialize(_e: PolicyEntry): void {}

  /** Unlinks an element. */
  abstract remove(e: PolicyEntry): void;

  /**
   * The element re-registered with new policy values: degradation resets,
   * WRR's remaining selections are capped at the new weight
   * (RSPLIB `poolElementNodeUpdate`), and its position is recomputed.
   */
  abstract update(e: PolicyEntry): void;

  /** Links an element whose state is set. */
  protected abstract link(e: PolicyEntry): void;

  /**
   * Selects up to `count` distinct elements into `out` (appending), moving
   * on the first `maxIncrement` of them (0: the policy's default).
   */
  abstract select(
    count: number,
    maxIncrement: number,
    random: RandomSource,
    out: PolicyEntry[],
  ): void;

  /** All linked elements, in no particular order. */
  abstract entries(): Iterable<PolicyEntry>;

  /** The increment to apply: the registrar's, or the policy's default. */
  protected increment(maxIncrement: number): number {
    return maxIncrement > 0 ? maxIncrement : this.behaviour.defaultMaxIncrement;
  }

  /** Re-sequences and updates a selected element. */
  protected moveOn(e: PolicyEntry): void {
    e.seq = this.sequence++;
    e.selectionCounter++;
    this.behaviour.update?.(e);
  }

  /** Resets what a new registration resets. */
  protected reset(e: PolicyEntry): void {
    e.degradation = 0;
    if (e.virtualCounter > e.weight) e.virtualCounter = e.weight;
  }
}

/** Round robin: a doubly linked list in sequence order. */
export class RoundRobinSelection extends Selection {
  private head: PolicyEntry | undefined = undefined;
  private tail: PolicyEntry | undefined = undefined;
  private count = 0;

  /** Number of linked elements. */
  get size(): number {
    return this.count;
  }

  /** Appends an element to the end of the order. */
  protected link(e: PolicyEntry): void {
    e.previous = this.tail;
    e.following = undefined;
    if (this.tail === undefined) this.head = e;
    else this.tail.following = e;
    this.tail = e;
    e.index = 0;
    this.count++;
  }

  /** Unlinks an element. */
  remove(e: PolicyEntry): void {
    if (e.index < 0) return;
    if (e.previous === undefined) this.head = e.following;
    else e.previous.following = e.following;
    if (e.following === undefined) this.tail = e.previous;
    else e.following.previous = e.previous;
    e.previous = e.following = undefined;
    e.index = -1;
    this.count--;
  }

  /** Re-registration: the position in the cycle is kept. */
  update(e: PolicyEntry): void {
    this.reset(e);
  }

  /** The first `count` in order; the first `maxIncrement` move to the end. */
  select(count: number, maxIncrement: number, _random: RandomSource, out: PolicyEntry[]): void {
    const start = out.length;
    for (let e = this.head; e !== undefined && out.length - start < count; e = e.following) {
      out.push(e);
    }
    const moves = Math.min(out.length - start, this.increment(maxIncrement));
    for (let i = 0; i < moves; i++) {
      const e = out[start + i];
      this.remove(e);
      this.moveOn(e);
      this.link(e);
    }
  }

  /** All elements, in round-robin order. */
  *entries(): Iterable<PolicyEntry> {
    for (let e = this.head; e !== undefined; e = e.following) yield e;
  }
}

function before(a: PolicyEntry, b: PolicyEntry): boolean {
  if (a.key1 !== b.key1) return a.key1 < b.key1;
  if (a.key2 !== b.key2) return a.key2 < b.key2;
  return a.seq < b.seq;
}

/**
 * Ordered policies: an indexed binary min-heap on (key1, key2, seq). The
 * first N are found by a best-first walk over the heap, without removing.
 */
export class OrderedSelection extends Selection {
  private readonly heap: PolicyEntry[] = [];
  private readonly frontier: PolicyEntry[] = [];

  /** Number of linked elements. */
  get size(): number {
    return this.heap.length;
  }

  /** WRR: a new element joins the current round (that of the first in order). */
  protected override initialize(e: PolicyEntry): void {
    if (this.behaviour.name === "WeightedRoundRobin") {
      e.roundCounter = this.heap.length > 0 ? this.heap[0].roundCounter : 0;
      e.virtualCounter = e.weight;
    }
  }

  /** Inserts an element at its place. */
  protected link(e: PolicyEntry): void {
    this.behaviour.keys!(e);
    e.index = this.heap.length;
    this.heap.push(e);
    this.up(e.index);
  }

  /** Unlinks an element. */
  remove(e: PolicyEntry): void {
    const i = e.index;
    if (i < 0) return;
    const heap = this.heap;
    const last = heap.pop()!;
    e.index = -1;
    if (last === e) return;
    heap[i] = last;
    last.index = i;
    this.fix(i);
  }

  /** Re-registration: reset, new keys, new place. */
  update(e: PolicyEntry): void {
    this.reset(e);
    if (e.index < 0) return;
    this.behaviour.keys!(e);
    this.fix(e.index);
  }

  /** The first `count` in order; the first `maxIncrement` of them move on. */
  select(count: number, maxIncrement: number, _random: RandomSource, out: PolicyEntry[]): void {
    const heap = this.heap;
    if (heap.length === 0 || count <= 0) return;
    const start = out.length;
    if (count === 1 || heap.length === 1) {
      out.push(heap[0]);
    } else if (count <= 3) {
      // The second is a child of the root; the third the other child or a child of the second.
      const n = heap.length;
      const first = heap[0];
      const left = heap[1];
      const right = n > 2 ? heap[2] : undefined;
      const second = right !== undefined && before(right, left) ? right : left;
      out.push(first, second);
      if (count === 3 && n > 2) {
        let third = second === left ? right! : left;
        const child = 2 * second.index + 1;
        if (child < n && before(heap[child], third)) third = heap[child];
        if (child + 1 < n && before(heap[child + 1], third)) third = heap[child + 1];
        out.push(third);
      }
    } else {
      // Best-first walk: the frontier holds candidates sorted, best last.
      const frontier = this.frontier;
      frontier.length = 0;
      frontier.push(heap[0]);
      while (frontier.length > 0 && out.length - start < count) {
        const e = frontier.pop()!;
        out.push(e);
        const left = 2 * e.index + 1;
        if (left < heap.length) insertSorted(frontier, heap[left]);
        if (left + 1 < heap.length) insertSorted(frontier, heap[left + 1]);
      }
      frontier.length = 0;
    }
    const moves = Math.min(out.length - start, this.increment(maxIncrement));
    // Without an update the keys cannot change: only the new sequence number moves it.
    const rekey = this.behaviour.update !== undefined;
    for (let i = 0; i < moves; i++) {
      const e = out[start + i];
      this.moveOn(e);
      if (rekey) {
        this.behaviour.keys!(e);
        this.fix(e.index);
      } else {
        this.down(e.index);
      }
    }
  }

  /** All elements, in heap order. */
  entries(): Iterable<PolicyEntry> {
    return this.heap;
  }

  /** Restores the heap order at `i`. */
  private fix(i: number): void {
    if (i > 0 && before(this.heap[i], this.heap[(i - 1) >> 1])) this.up(i);
    else this.down(i);
  }

  /** Moves the element at `i` towards the root. */
  private up(i: number): void {
    const heap = this.heap;
    const e = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (!before(e, p)) break;
      heap[i] = p;
      p.index = i;
      i = parent;
    }
    heap[i] = e;
    e.index = i;
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
      const child = right < n && before(heap[right], heap[left]) ? right : left;
      const c = heap[child];
      if (!before(c, e)) break;
      heap[i] = c;
      c.index = i;
      i = child;
    }
    heap[i] = e;
    e.index = i;
  }
}

/** Inserts into an array sorted worst first, best last. */
function insertSorted(list: PolicyEntry[], e: PolicyEntry): void {
  let i = list.length;
  list.push(e);
  while (i > 0 && before(list[i - 1], e)) {
    list[i] = list[i - 1];
    i--;
  }
  list[i] = e;
}

/** Random: a dense array; distinct draws by partial Fisher–Yates, undone afterwards. */
export class UniformSelection extends Selection {
  private readonly items: PolicyEntry[] = [];
  private readonly swaps: number[] = [];

  /** Number of linked elements. */
  get size(): number {
    return this.items.length;
  }

  /** Appends an element. */
  protected link(e: PolicyEntry): void {
    e.index = this.items.length;
    this.items.push(e);
  }

  /** Unlinks an element (the last one takes its place). */
  remove(e: PolicyEntry): void {
    const i = e.index;
    if (i < 0) return;
    const last = this.items.pop()!;
    e.index = -1;
    if (last !== e) {
      this.items[i] = last;
      last.index = i;
    }
  }

  /** Re-registration: nothing to reorder. */
  update(e: PolicyEntry): void {
    this.reset(e);
  }

  /** Up to `count` distinct elements, uniformly at random. */
  select(count: number, maxIncrement: number, random: RandomSource, out: PolicyEntry[]): void {
    const items = this.items;
    const n = Math.min(count, items.length);
    const moves = this.increment(maxIncrement);
    const swaps = this.swaps;
    swaps.length = 0;
    let m = items.length;
    for (let k = 0; k < n; k++) {
      const j = randomBelow(random, m);
      m--;
      swap(items, j, m);
      swaps.push(j);
      const e = items[m];
      out.push(e);
      if (k < moves) this.moveOn(e);
      else {
        e.seq = this.sequence++;
        e.selectionCounter++;
      }
    }
    for (let k = swaps.length - 1; k >= 0; k--) swap(items, swaps[k], items.length - 1 - k);
  }

  /** All elements. */
  entries(): Iterable<PolicyEntry> {
    return this.items;
  }
}

function swap(items: PolicyEntry[], i: number, j: number): void {
  if (i === j) return;
  const a = items[i];
  const b = items[j];
  items[i] = b;
  items[j] = a;
  a.index = j;
  b.index = i;
}

/**
 * Weighted random policies: a Fenwick tree of the elements' values over
 * dense slots. Values are integers below 2^32 and sums stay exact while the
 * pool holds fewer than 2^21 elements.
 */
export class WeightedSelection extends Selection {
  private items: PolicyEntry[] = [];
  // Plain arrays of doubles: no ArrayBuffer to allocate per pool (expensive in Deno).
  private weights: number[] = new Array(16).fill(0);
  private tree: number[] = new Array(17).fill(0);
  private total = 0;

  /** Number of linked elements. */
  get size(): number {
    return this.items.length;
  }

  /** Appends an element with its value. */
  protected link(e: PolicyEntry): void {
    const i = this.items.length;
    if (i === this.weights.length) this.grow();
    e.index = i;
    this.items.push(e);
    e.value = this.behaviour.value!(e);
    this.setWeight(i, e.value);
  }

  /** Unlinks an element (the last slot takes its place). */
  remove(e: PolicyEntry): void {
    const i = e.index;
    if (i < 0) return;
    const lastIndex = this.items.length - 1;
    const last = this.items[lastIndex];
    if (last !== e) {
      this.setWeight(i, this.weights[lastIndex]);
      this.items[i] = last;
      last.index = i;
    }
    this.setWeight(lastIndex, 0);
    this.items.pop();
    e.index = -1;
  }

  /** Re-registration: reset and take the new value. */
  update(e: PolicyEntry): void {
    this.reset(e);
    if (e.index < 0) return;
    e.value = this.behaviour.value!(e);
    this.setWeight(e.index, e.value);
  }

  /** Up to `count` distinct elements, each in proportion to its value. */
  select(count: number, maxIncrement: number, random: RandomSource, out: PolicyEntry[]): void {
    const start = out.length;
    const n = Math.min(count, this.items.length);
    const moves = this.increment(maxIncrement);
    for (let k = 0; k < n; k++) {
      if (this.total < 1) break;
      const i = this.find(randomBelow(random, this.total));
      const e = this.items[i];
      if (k < moves) this.moveOn(e);
      else {
        e.seq = this.sequence++;
        e.selectionCounter++;
      }
      if (k + 1 < n) this.setWeight(i, 0); // not again in this selection
      out.push(e);
    }
    // Restore the drawn weights; an update (degradation) may have changed a value.
    const update = moves > 0 && this.behaviour.update !== undefined;
    for (let k = start; k < out.length; k++) {
      const e = out[k];
      if (update) e.value = this.behaviour.value!(e);
      this.setWeight(e.index, e.value);
    }
  }

  /** All elements. */
  entries(): Iterable<PolicyEntry> {
    return this.items;
  }

  /** Sum of all values (for tests and statistics). */
  get totalValue(): number {
    return this.total;
  }

  /** Sets a slot's weight in the tree and the total. */
  private setWeight(i: number, w: number): void {
    const delta = w - this.weights[i];
    if (delta === 0) return;
    this.weights[i] = w;
    this.total += delta;
    const tree = this.tree;
    for (let j = i + 1; j < tree.length; j += j & -j) tree[j] += delta;
  }

  /** The slot whose cumulative range contains `v` (0 ≤ v < total). */
  private find(v: number): number {
    const tree = this.tree;
    const n = tree.length - 1;
    let pos = 0;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && tree[next] <= v) {
        pos = next;
        v -= tree[next];
      }
    }
    return pos;
  }

  /** Doubles the capacity, rebuilding the tree in O(n). */
  private grow(): void {
    const capacity = this.weights.length * 2;
    const weights: number[] = new Array(capacity).fill(0);
    for (let i = 0; i < this.weights.length; i++) weights[i] = this.weights[i];
    const tree: number[] = new Array(capacity + 1).fill(0);
    for (let i = 0; i < capacity; i++) {
      tree[i + 1] += weights[i];
      const parent = i + 1 + ((i + 1) & -(i + 1));
      if (parent <= capacity) tree[parent] += tree[i + 1];
    }
    this.weights = weights;
    this.tree = tree;
  }
}

/** A new, empty selection structure for a policy. */
export function createSelection(behaviour: PolicyBehaviour): Selection {
  switch (behaviour.kind) {
    case "roundRobin":
      return new RoundRobinSelection(behaviour);
    case "ordered":
      return new OrderedSelection(behaviour);
    case "uniform":
      return new UniformSelection(behaviour);
    case "weighted":
      return new WeightedSelection(behaviour);
  }
}
