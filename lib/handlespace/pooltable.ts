/**
 * Pools by pool handle. Looking a pool up by a numeric hash of the handle's
 * bytes costs about a fifth of building a string key for every request
 * (docs/performance.md). The hash (FNV-1a) is seeded per table, so that
 * clients cannot choose handles that all land in one bucket.
 *
 * @module
 */

import type { Pool } from "./pool.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A hash table of pools keyed by their handle bytes. */
export class PoolTable {
  private readonly buckets = new Map<number, Pool | Pool[]>();
  private readonly seed: number;
  private count = 0;

  /**
   * Creates an empty table.
   *
   * @param seed hash seed (choose at random)
   */
  constructor(seed: number) {
    this.seed = seed >>> 0;
  }

  /** Number of pools. */
  get size(): number {
    return this.count;
  }

  /** Seeded FNV-1a of the handle, folded to 30 bits (V8 keeps such keys unboxed). */
  hash(handle: Uint8Array): number {
    let x = (0x811c9dc5 ^ this.seed) >>> 0;
    for (let i = 0; i < handle.length; i++) x = Math.imul(x ^ handle[i], 0x01000193);
    return (x ^ (x >>> 30)) & 0x3fffffff;
  }

  /** The pool of a handle. */
  get(handle: Uint8Array): Pool | undefined {
    const bucket = this.buckets.get(this.hash(handle));
    if (bucket === undefined) return undefined;
    if (!Array.isArray(bucket)) return sameBytes(bucket.handle, handle) ? bucket : undefined;
    for (const pool of bucket) if (sameBytes(pool.handle, handle)) return pool;
    return undefined;
  }

  /** Adds a pool whose handle is not in the table yet. */
  add(pool: Pool): void {
    const h = this.hash(pool.handle);
    pool.tableHash = h;
    const bucket = this.buckets.get(h);
    if (bucket === undefined) this.buckets.set(h, pool);
    else if (Array.isArray(bucket)) bucket.push(pool);
    else this.buckets.set(h, [bucket, pool]);
    this.count++;
  }

  /** Removes a pool. */
  delete(pool: Pool): void {
    const h = pool.tableHash;
    const bucket = this.buckets.get(h);
    if (bucket === undefined) return;
    if (!Array.isArray(bucket)) {
      if (bucket !== pool) return;
      this.buckets.delete(h);
    } else {
      const i = bucket.indexOf(pool);
      if (i < 0) return;
      bucket.splice(i, 1);
      if (bucket.length === 1) this.buckets.set(h, bucket[0]);
    }
    this.count--;
  }

  /** All pools. */
  *values(): IterableIterator<Pool> {
    for (const bucket of this.buckets.values()) {
      if (Array.isArray(bucket)) yield* bucket;
      else yield bucket;
    }
  }
}
