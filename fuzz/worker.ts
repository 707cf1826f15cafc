/**
 * Runs {@link fuzz} for one target in a worker, so that the supervisor can
 * stop a hanging input and the allocation guard stays out of its realm.
 * Before each input runs, the worker copies it into a shared buffer with
 * the time it started; the supervisor reads both when an input overruns.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { installAllocationGuard } from "./allocation.ts";
import { fuzz } from "./engine.ts";
import { TARGETS } from "./targets.ts";
import { toHex } from "../lib/wire/hex.ts";

/** What the supervisor sends to start a worker. */
export interface WorkerStart {
  readonly target: string;
  readonly seed: number;
  readonly timeMs?: number;
  readonly runs?: number;
  readonly corpus: string[];
  /** Shared: Int32 busy flag, Int32 input length, Float64 start time, then the input. */
  readonly shared: SharedArrayBuffer;
}

/** Size of the shared buffer's header. */
export const SHARED_HEADER = 16;

self.onmessage = async (event: MessageEvent<WorkerStart>) => {
  const { target: name, seed, timeMs, runs, corpus, shared } = event.data;
  installAllocationGuard();
  const target = TARGETS.get(name)!;
  const flags = new Int32Array(shared, 0, 2);
  const started = new Float64Array(shared, 8, 1);
  const bytes = new Uint8Array(shared, SHARED_HEADER);
  const hexToBytes = (hex: string) =>
    Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
  const result = await fuzz({
    target,
    seed,
    timeMs,
    runs,
    corpus: corpus.map(hexToBytes),
    before(input) {
      const n = Math.min(input.length, bytes.length);
      bytes.set(input.subarray(0, n));
      Atomics.store(flags, 1, n);
      started[0] = Date.now();
      Atomics.store(flags, 0, 1);
    },
    after() {
      Atomics.store(flags, 0, 0);
    },
    progress(stats) {
      self.postMessage({ type: "progress", stats });
    },
    failure(f) {
      self.postMessage({
        type: "failure",
        failure: { ...f, input: toHex(f.input) },
      });
    },
  });
  self.postMessage({ type: "done", stats: result.stats });
};
