/**
 * Pools by pool handle. Looking a pool up by a numeric hash of the handle's
 * bytes costs about a fifth of building a string key for every request
 * (docs/performance.md). The hash (FNV-1a) is seeded per table, so that
 * clients cannot choose handles that all land in one bucket.
 *
 * @module
 */

import type { Pool } from "./pool.ts";

/** Byte equality, compared from the end: handles of one application tend to differ there (`Pool-0001`, `Pool-0002`). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** A hash table of pools keyed by their handle bytes. */
export class PoolTable {
  private readonly buckets = new Map<number, Pool | Pool[]>();
  private readonly seed: number;
  private count = 0;
  /**
   * The pool last found or added: operations come in runs on one pool
   * (registrations, keep-alives, resolutions of a busy pool), and comparing
   * a handle with its handle costs less than hashing it and a map lookup.
   */
  private last: Pool | undefined = undefined;

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
    const last = this.last;
    if (last !== undefined && sameBytes(last.handle, handle)) return last;
    const bucket = this.buckets.get(this.hash(handle));
    if (bucket === undefined) return undefined;
    if (!Array.isArray(bucket)) {
      if (!sameBytes(bucket.handle, handle)) return undefined;
      this.last = bucket;
      return bucket;
    }
    for (const pool of bucket) {
      if (sameBytes(pool.handle, handle)) {
        this.last = pool;
        return pool;
      }
    }
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
    this.last = pool;
  }

  /** Removes a pool. */
  delete(pool: Pool): void {
    if (this.last === pool) this.last = undefined;
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
