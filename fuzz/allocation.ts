/**
 * Allocation accounting for the fuzzer: wraps the global `ArrayBuffer`,
 * typed array and `Array` constructors so that every explicit allocation
 * during a run is measured. A parser that allocates from a length field
 * before checking it against the bytes present shows up as a single
 * allocation far larger than its input.
 *
 * Install it only in the fuzzing worker's realm: it slows every typed array
 * construction down.
 *
 * @module
 */

/** What a run allocated. */
export interface AllocationReport {
  /** The largest single allocation, in bytes. */
  largest: number;
  /** All explicit allocations together, in bytes. */
  total: number;
  /** Where the first allocation above the limit was made (a stack trace). */
  culprit: string | undefined;
}

let counting = false;
let largest = 0;
let total = 0;
let limit = Infinity;
let culprit: string | undefined;

function account(bytes: number): void {
  if (!counting || !(bytes > 0)) return;
  if (bytes > largest) largest = bytes;
  total += bytes;
  if (bytes > limit && culprit === undefined) culprit = new Error().stack;
}

function sizeOf(args: unknown[], bytesPerElement: number): number {
  const first = args[0];
  if (typeof first === "number") return first * bytesPerElement;
  if (
    first instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== "undefined" && first instanceof SharedArrayBuffer)
  ) {
    return 0; // a view: no new memory
  }
  if (first !== null && typeof first === "object" && "length" in first) {
    return Number((first as { length: number }).length) * bytesPerElement;
  }
  return 0;
}

let installed = false;

/** Wraps the constructors (once per realm). */
export function installAllocationGuard(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, unknown>;
  const typed = [
    "Uint8Array",
    "Int8Array",
    "Uint8ClampedArray",
    "Uint16Array",
    "Int16Array",
    "Uint32Array",
    "Int32Array",
    "Float32Array",
    "Float64Array",
    "BigUint64Array",
    "BigInt64Array",
  ];
  for (const name of typed) {
    const original = g[name] as { BYTES_PER_ELEMENT: number } & (new (...a: unknown[]) => unknown);
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        account(sizeOf(args, original.BYTES_PER_ELEMENT));
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget);
      },
    });
  }
  const buffer = g.ArrayBuffer as new (...a: unknown[]) => unknown;
  g.ArrayBuffer = new Proxy(buffer, {
    construct(target, args, newTarget) {
      account(typeof args[0] === "number" ? args[0] : 0);
      return Reflect.construct(target, args, newTarget === g.ArrayBuffer ? target : newTarget);
    },
  });
  const array = g.Array as new (...a: unknown[]) => unknown;
  g.Array = new Proxy(array, {
    construct(target, args, newTarget) {
      if (args.length === 1 && typeof args[0] === "number") account(args[0] * 8);
      return Reflect.construct(target, args, newTarget === g.Array ? target : newTarget);
    },
    apply(target, thisArg, args) {
      if (args.length === 1 && typeof args[0] === "number") account(args[0] * 8);
      return Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
    },
  });
}

/** Starts measuring; allocations above `maxBytes` record where they happened. */
export function beginAllocations(maxBytes = Infinity): void {
  counting = true;
  largest = 0;
  total = 0;
  limit = maxBytes;
  culprit = undefined;
}

/** Stops measuring and reports. */
export function endAllocations(): AllocationReport {
  counting = false;
  return { largest, total, culprit };
}
