/**
 * A pool for small byte strings, like Node's `Buffer` pool.
 *
 * Allocating an `ArrayBuffer` is expensive next to everything else a codec
 * does (in Deno every typed array gets its own off-heap backing store, and
 * the garbage collector then has to track it). Byte strings the codecs hand
 * out — pool handles, cookies, encoded messages — of up to
 * {@link MAX_POOLED_BYTES} bytes are therefore copied into a shared 16 KiB
 * slab and returned as views of it.
 *
 * Consequence for users: such a `Uint8Array`'s `.buffer` is the slab, not a
 * buffer of its own. Use the view (with its `byteOffset` and `length`), never
 * transfer its buffer to a worker, and call `.slice()` when an exclusive
 * buffer is needed.
 *
 * @module
 */

/** Size of one slab. */
export const SLAB_BYTES = 16384;
/** Longest byte string served from the pool; longer ones get their own buffer. */
export const MAX_POOLED_BYTES = 1024;

let slab = new Uint8Array(SLAB_BYTES);
/** The slab's buffer: views are made with `new Uint8Array(buffer, …)`, cheaper than `subarray`. */
let slabBuffer: ArrayBuffer = slab.buffer;
let used = 0;

function newSlab(): void {
  slab = new Uint8Array(SLAB_BYTES);
  slabBuffer = slab.buffer;
  used = 0;
}
/** True while an encoder writes into the free part of the slab (see {@link poolAcquire}). */
let held = false;

/** A copy of `source[from, to)`: a view into the pool when short, an own buffer otherwise. */
export function copyBytes(source: Uint8Array, from: number, to: number): Uint8Array {
  const n = to - from;
  if (n > MAX_POOLED_BYTES || held) return source.slice(from, to);
  if (used + n > SLAB_BYTES) newSlab();
  const start = used;
  if (n <= 32) {
    const s = slab;
    for (let i = 0; i < n; i++) s[start + i] = source[from + i];
  } else {
    slab.set(source.subarray(from, to), start);
  }
  used = (start + n + 7) & ~7; // keep views 8-byte aligned
  return new Uint8Array(slabBuffer, start, n);
}

/**
 * Direct access for encoders: takes the free part of the current slab
 * (starting a new slab when fewer than `bytes` are free) and returns
 * whether it could. While held, other copies bypass the pool. Give it back
 * with {@link poolCommit} or {@link poolRelease}.
 */
export function poolAcquire(bytes: number): boolean {
  if (held) return false;
  if (SLAB_BYTES - used < bytes) newSlab();
  held = true;
  return true;
}

/** The current slab (valid while acquired). */
export function poolSlab(): Uint8Array {
  return slab;
}

/** First free byte of the current slab. */
export function poolStart(): number {
  return used;
}

/** Takes `[poolStart(), end)` of the current slab as a finished byte string and releases the pool. */
export function poolCommit(end: number): Uint8Array {
  const start = used;
  used = (end + 7) & ~7;
  held = false;
  return new Uint8Array(slabBuffer, start, end - start);
}

/** Releases the pool without taking anything. */
export function poolRelease(): void {
  held = false;
}
