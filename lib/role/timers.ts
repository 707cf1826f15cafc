/**
 * Named timers for sans-IO roles: a role arms a timer under a key, the
 * driver asks for the next deadline and calls the role when time passes.
 * A binary heap with lazy deletion: arm, cancel and pop are O(log n).
 *
 * @module
 */

interface Entry<K> {
  time: number;
  key: K;
  generation: number;
}

/** A set of timers keyed by `K`; re-arming a key replaces its deadline. */
export class TimerQueue<K> {
  private readonly heap: Entry<K>[] = [];
  private readonly armed = new Map<K, number>(); // key -> generation
  private generation = 0;

  /** Number of armed timers. */
  get size(): number {
    return this.armed.size;
  }

  /** Arms (or re-arms) the timer `key` to fire at `time`. */
  set(key: K, time: number): void {
    const generation = ++this.generation;
    this.armed.set(key, generation);
    this.push({ time, key, generation });
    if (this.heap.length > 2 * this.armed.size + 64) this.rebuild();
  }

  /** Cancels the timer `key`, if armed. */
  cancel(key: K): void {
    this.armed.delete(key);
  }

  /** Whether `key` is armed. */
  has(key: K): boolean {
    return this.armed.has(key);
  }

  /** The deadline of `key`, if armed. */
  deadline(key: K): number | undefined {
    const generation = this.armed.get(key);
    if (generation === undefined) return undefined;
    for (const e of this.heap) if (e.generation === generation) return e.time;
    return undefined;
  }

  /** The earliest deadline, if any timer is armed. */
  next(): number | undefined {
    this.skipStale();
    return this.heap[0]?.time;
  }

  /** Removes and returns the key of the earliest timer due at `now`, if any. */
  popDue(now: number): K | undefined {
    this.skipStale();
    const top = this.heap[0];
    if (top === undefined || top.time > now) return undefined;
    this.pop();
    this.armed.delete(top.key);
    return top.key;
  }

  private skipStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (this.armed.get(top.key) === top.generation) return;
      this.pop();
    }
  }

  private rebuild(): void {
    const live = this.heap.filter((e) => this.armed.get(e.key) === e.generation);
    this.heap.length = 0;
    for (const e of live) this.push(e);
  }

  private push(e: Entry<K>): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(e, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = e;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && earlier(heap[right], heap[left]) ? right : left;
      if (!earlier(heap[child], last)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
  }
}

/** Earlier deadline first; ties in arming order, so runs are deterministic. */
function earlier<K>(a: Entry<K>, b: Entry<K>): boolean {
  return a.time < b.time || (a.time === b.time && a.generation < b.generation);
}
