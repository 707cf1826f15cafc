/**
 * The fuzzing loop: picks inputs (structure-aware generation, mutation of
 * seeds and of earlier inputs, random bytes), runs the target, and records
 * every distinct failure: an exception other than the parser's typed error,
 * a violated property, or an allocation far beyond the input's size.
 * Failures are shrunk by removing bytes while the failure stays the same.
 *
 * Deterministic for a given seed, target and number of runs.
 *
 * @module
 */

import fc from "fast-check";
import { beginAllocations, endAllocations } from "./allocation.ts";
import { Rng } from "../lib/testing/mutate.ts";
import type { FuzzTarget } from "./targets.ts";
import { inputToState } from "./cmplog.ts";
import { type Dictionary, encodings, insertToken } from "./dictionary.ts";
import type { Feedback } from "./feedback.ts";

/** A failing input. */
export interface Failure {
  /** Stable description used to tell failures apart. */
  readonly signature: string;
  /** `crash` (an unexpected exception), `property`, `allocation`, or `hang` (from the supervisor). */
  readonly kind: "crash" | "property" | "allocation" | "hang";
  /** The (shrunk) input. */
  readonly input: Uint8Array;
  /** What happened. */
  readonly message: string;
  /** Where, when known. */
  readonly stack?: string;
}

/** Counters of a run. */
export interface FuzzStats {
  /** Inputs run. */
  execs: number;
  /** Milliseconds since the start. */
  elapsedMs: number;
  /** Distinct failures found. */
  failures: number;
  /** Edges of the instrumented code reached so far (0 without feedback). */
  edges: number;
  /** Inputs kept because they reached new coverage. */
  corpus: number;
}

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** The target. */
  readonly target: FuzzTarget;
  /** Seed of every random choice. */
  readonly seed: number;
  /** Stop after this long (ms). */
  readonly timeMs?: number;
  /** Stop after this many inputs. */
  readonly runs?: number;
  /** Extra inputs to start from (the regression corpus). */
  readonly corpus?: readonly Uint8Array[];
  /** Largest single allocation allowed for an input of `n` bytes. */
  readonly allocationLimit?: (n: number) => number;
  /** Called about twice a second. */
  readonly progress?: (stats: FuzzStats) => void;
  /** Called for each new distinct failure. */
  readonly failure?: (failure: Failure) => void;
  /** Called with each input before it runs (hang reports). */
  readonly before?: (input: Uint8Array) => void;
  /** Called after each input. */
  readonly after?: () => void;
  /**
   * Coverage and comparison feedback of instrumented code (`feedback.ts`):
   * inputs that reach new edges or count classes are kept and mutated in
   * preference, and each gets an input-to-state (CmpLog) stage once.
   */
  readonly feedback?: Feedback;
  /** Tokens the mutator inserts or writes over inputs (`dictionary.ts`). */
  readonly dictionary?: Dictionary;
  /** Called with each input that reached new coverage (not the seeds). */
  readonly newCoverage?: (input: Uint8Array) => void;
}

/** The default allocation limit: 128 KiB plus 8 bytes per input byte. */
export function defaultAllocationLimit(n: number): number {
  return 128 * 1024 + 8 * n;
}

interface Outcome {
  readonly kind: Failure["kind"];
  readonly signature: string;
  readonly message: string;
  readonly stack?: string;
}

function normalise(text: string): string {
  return text.replace(/0x[0-9a-f]+/gi, "#").replace(/\d+/g, "#").slice(0, 200);
}

/** The first stack frame in the library, as `file:line`. */
function where(stack: string | undefined): string {
  if (stack === undefined) return "?";
  for (const line of stack.split("\n").slice(1)) {
    const m = /\/(lib\/[^:)]+):(\d+)/.exec(line);
    if (m !== null) return `${m[1]}:${m[2]}`;
  }
  return "?";
}

/** Runs one input; undefined when every property held. */
export async function runOnce(
  target: FuzzTarget,
  input: Uint8Array,
  limit: (n: number) => number = defaultAllocationLimit,
): Promise<Outcome | undefined> {
  const max = limit(input.length);
  beginAllocations(max);
  let error: unknown;
  try {
    const r = target.run(input);
    if (r instanceof Promise) await r;
  } catch (e) {
    error = e;
  }
  const allocation = endAllocations();
  if (error !== undefined) {
    const e = error instanceof Error ? error : new Error(String(error));
    const kind = e.name === "PropertyFailure" ? "property" : "crash";
    return {
      kind,
      signature: `${target.name} ${kind} ${e.name}: ${normalise(e.message)} @ ${where(e.stack)}`,
      message: `${e.name}: ${e.message}`,
      stack: e.stack,
    };
  }
  if (allocation.largest > max) {
    return {
      kind: "allocation",
      signature: `${target.name} allocation @ ${where(allocation.culprit)}`,
      message:
        `allocated ${allocation.largest} bytes at once for an input of ${input.length} bytes (limit ${max})`,
      stack: allocation.culprit,
    };
  }
  return undefined;
}

/** Shrinks an input while it fails the same way (at most `budget` runs). */
export async function shrink(
  target: FuzzTarget,
  input: Uint8Array,
  signature: string,
  limit: (n: number) => number = defaultAllocationLimit,
  budget = 2000,
): Promise<Uint8Array> {
  let best = input;
  let runs = 0;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1; chunk >>= 1) {
    let at = 0;
    while (at < best.length && runs < budget) {
      const candidate = new Uint8Array(best.length - Math.min(chunk, best.length - at));
      candidate.set(best.subarray(0, at));
      candidate.set(best.subarray(at + chunk), at);
      runs++;
      const outcome = await runOnce(target, candidate, limit);
      if (outcome?.signature === signature) best = candidate;
      else at += chunk;
    }
    if (runs >= budget) break;
  }
  return best;
}

/** Most tokens learnt from comparisons kept in the dictionary. */
const MAX_LEARNT_TOKENS = 512;

/** Fuzzes one target until the time or the run budget is used up. */
export async function fuzz(
  options: FuzzOptions,
): Promise<{ stats: FuzzStats; failures: Failure[] }> {
  const { target } = options;
  const feedback = options.feedback;
  const rng = new Rng(options.seed);
  const limit = options.allocationLimit ?? defaultAllocationLimit;
  const start = performance.now();
  const deadline = options.timeMs === undefined ? Infinity : start + options.timeMs;
  const maxRuns = options.runs ?? Infinity;
  const seen = new Map<string, Failure>();
  const pool: Uint8Array[] = [...(options.corpus ?? []), ...target.seeds()];
  if (pool.length === 0) pool.push(new Uint8Array(8));
  const seedCount = pool.length;
  /** Inputs that reached new coverage, in the order found. */
  const queue: Uint8Array[] = [];
  /** Queue entries still waiting for their input-to-state stage. */
  const cmplogPending: Uint8Array[] = [];
  /** Candidates of the last input-to-state stage, run before anything else. */
  let candidates: Uint8Array[] = [];
  const tokens: Dictionary = [...(options.dictionary ?? [])];
  const learnt = new Set<string>();
  let generated: Uint8Array[] = [];
  let batch = 0;
  const stats: FuzzStats = { execs: 0, elapsedMs: 0, failures: 0, edges: 0, corpus: 0 };
  let lastReport = start;
  let replaying = 0; // seeds and corpus run once, in order, before anything else

  const learn = (value: number | bigint | string) => {
    if (learnt.size >= MAX_LEARNT_TOKENS) return;
    const bytes = typeof value === "string"
      ? new TextEncoder().encode(value)
      : typeof value === "bigint" || Number.isSafeInteger(value)
      ? encodings(value)[0] // network order, the narrowest width
      : undefined;
    if (bytes === undefined || bytes.length === 0 || bytes.length > 64) return;
    const k = bytes.join(",");
    if (learnt.has(k)) return;
    learnt.add(k);
    tokens.push(bytes);
  };

  const mutated = (): Uint8Array => {
    const fromQueue = queue.length > 0 && rng.chance(0.6);
    // From the queue: a recent entry half of the time, and the shorter of two (short inputs
    // run faster and mutate into fewer dead ends, as AFL's favoured entries).
    const entry = () =>
      rng.chance(0.5)
        ? queue[queue.length - 1 - rng.below(Math.min(16, queue.length))]
        : rng.pick(queue);
    const shorter = (a: Uint8Array, b: Uint8Array) => (b.length < a.length ? b : a);
    let input = fromQueue ? shorter(entry(), entry()) : rng.pick(pool);
    const depth = rng.chance(0.6) ? 1 : 2 + rng.below(5);
    const others = queue.length > 0 && rng.chance(0.3) ? queue : pool;
    for (let i = 0; i < depth; i++) {
      input = tokens.length > 0 && rng.chance(0.15)
        ? insertToken(rng, input, tokens)
        : target.mutate(rng, input, others);
    }
    return input;
  };

  const nextInput = (): Uint8Array => {
    if (replaying < pool.length) return pool[replaying++];
    const candidate = candidates.pop();
    if (candidate !== undefined) return candidate;
    const choice = rng.below(100);
    if (choice < 10) {
      if (generated.length === 0) {
        generated = fc.sample(target.generate, { numRuns: 200, seed: options.seed + ++batch });
      }
      return generated.pop()!;
    }
    if (choice < 14) {
      const b = new Uint8Array(rng.below(rng.chance(0.2) ? 512 : 48));
      for (let i = 0; i < b.length; i++) b[i] = rng.u32() & 0xff;
      return b;
    }
    if (choice < 70 && queue.length === 0) {
      let input = rng.pick(pool);
      input = target.mutate(rng, input, pool);
      return input;
    }
    return mutated();
  };

  /** The input-to-state stage of one queue entry: run it recording comparisons. */
  const cmplog = async (entry: Uint8Array) => {
    feedback!.reset();
    feedback!.startRecording();
    try {
      await runOnce(target, entry, limit);
    } finally {
      const comparisons = feedback!.stopRecording();
      stats.execs++;
      candidates = inputToState(entry, comparisons, 256).reverse();
      for (const c of comparisons) {
        learn(c.b);
        learn(c.a);
      }
    }
  };

  while (stats.execs < maxRuns) {
    const now = performance.now();
    if (now >= deadline) break;
    if (now - lastReport >= 500) {
      lastReport = now;
      stats.elapsedMs = now - start;
      options.progress?.({ ...stats });
    }
    if (
      feedback !== undefined && candidates.length === 0 && cmplogPending.length > 0 &&
      replaying >= pool.length
    ) {
      await cmplog(cmplogPending.shift()!);
      continue;
    }
    const fromSeeds = replaying < pool.length;
    const input = nextInput();
    options.before?.(input);
    feedback?.reset();
    const outcome = await runOnce(target, input, limit);
    options.after?.();
    stats.execs++;
    const edgesBefore = feedback?.edgesSeen ?? 0;
    if (feedback !== undefined && feedback.novel()) {
      queue.push(input);
      // Input-to-state for inputs that reached a new edge (not only a new count class): its
      // candidates run whole messages through the parsers, the most expensive inputs there are.
      if (feedback.edgesSeen > edgesBefore) cmplogPending.push(input);
      stats.edges = feedback.edgesSeen;
      stats.corpus = queue.length;
      if (!fromSeeds) options.newCoverage?.(input);
    }
    if (outcome === undefined) {
      // Without feedback, keep a few inputs that passed, so that mutations can build on them.
      if (feedback !== undefined) continue;
      if (pool.length < seedCount + 4000 && rng.chance(0.02)) pool.push(input);
      else if (pool.length >= seedCount + 4000 && rng.chance(0.01)) {
        pool[seedCount + rng.below(pool.length - seedCount)] = input;
      }
      continue;
    }
    if (seen.has(outcome.signature)) continue;
    const small = await shrink(target, input, outcome.signature, limit);
    const failure: Failure = { ...outcome, input: small };
    seen.set(outcome.signature, failure);
    stats.failures++;
    options.failure?.(failure);
  }
  stats.elapsedMs = performance.now() - start;
  options.progress?.({ ...stats });
  return { stats, failures: [...seen.values()] };
}
