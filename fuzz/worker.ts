/**
 * Runs {@link fuzz} for one target in a worker, so that the supervisor can
 * stop a hanging input and the allocation guard stays out of its realm.
 * Before each input runs, the worker copies it into a shared buffer with
 * the time it started; the supervisor reads both when an input overruns.
 *
 * The supervisor starts this module from the instrumented tree
 * (`instrumented_tree.ts`) when fuzzing with feedback: the worker installs
 * the feedback global first, then loads the (instrumented) targets: nothing
 * this module imports statically may import an instrumented module.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { installAllocationGuard } from "./allocation.ts";
import { installFeedback } from "./feedback.ts";

/** What the supervisor sends to start a worker. */
export interface WorkerStart {
  readonly target: string;
  readonly seed: number;
  readonly timeMs?: number;
  readonly runs?: number;
  readonly corpus: string[];
  /** Shared: Int32 busy flag, Int32 input length, Float64 start time, then the input. */
  readonly shared: SharedArrayBuffer;
  /** Edge identifiers of the instrumented tree; 0 without feedback. */
  readonly edges: number;
  /** Constants the instrumented code compares against (for the automatic dictionary). */
  readonly constants: (number | string)[];
  /** The user's dictionary tokens (hex). */
  readonly dictionary: string[];
  /** Use the automatic dictionary. */
  readonly autoDictionary: boolean;
}

/** Size of the shared buffer's header. */
export const SHARED_HEADER = 16;

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const hexToBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

self.onmessage = async (event: MessageEvent<WorkerStart>) => {
  const { target: name, seed, timeMs, runs, corpus, shared, edges } = event.data;
  const feedback = edges > 0 ? installFeedback(edges) : undefined;
  // The targets load after the feedback global exists (instrumented modules read it).
  const { TARGETS } = await import("./targets.ts");
  const { fuzz } = await import("./engine.ts");
  const { automaticDictionary } = await import("./dictionary.ts");
  installAllocationGuard();
  const target = TARGETS.get(name)!;
  const flags = new Int32Array(shared, 0, 2);
  const started = new Float64Array(shared, 8, 1);
  const bytes = new Uint8Array(shared, SHARED_HEADER);
  const inputs = corpus.map(hexToBytes);
  const dictionary = [
    ...event.data.dictionary.map(hexToBytes),
    ...(event.data.autoDictionary
      ? automaticDictionary(event.data.constants, [...inputs, ...target.seeds()])
      : []),
  ];
  const result = await fuzz({
    target,
    seed,
    timeMs,
    runs,
    corpus: inputs,
    feedback,
    dictionary,
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
    newCoverage(input) {
      self.postMessage({ type: "coverage", input: toHex(input) });
    },
  });
  self.postMessage({ type: "done", stats: result.stats });
};
