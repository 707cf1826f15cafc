/**
 * The runtime side of the instrumentation (`instrument.ts`): edge counters,
 * AFL-style bucketing of their counts into "new coverage", and the record of
 * comparison operands the CmpLog stage of the engine feeds back as mutation
 * values. Installed as the global `__fz` in the fuzzing worker before the
 * instrumented modules load.
 *
 * @module
 */

/** Most distinct comparison operand pairs kept per recorded run. */
const MAX_RECORDED = 4096;

/** AFL's count classes: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128-255 as one bit each. */
const BUCKET = new Uint8Array(256);
for (let n = 1; n < 256; n++) {
  BUCKET[n] = n === 1
    ? 1
    : n === 2
    ? 2
    : n === 3
    ? 4
    : n < 8
    ? 8
    : n < 16
    ? 16
    : n < 32
    ? 32
    : n < 128
    ? 64
    : 128;
}

/** One comparison whose operands differed: `a` was seen, `b` was wanted. */
export interface Comparison {
  /** The operand that (often) came from the input. */
  readonly a: number | bigint | string;
  /** The operand it was compared with. */
  readonly b: number | bigint | string;
}

function interesting(x: unknown): x is number | bigint | string {
  const t = typeof x;
  return t === "number" || t === "bigint" || (t === "string" && (x as string).length <= 64);
}

/** Edge counters and comparison records of one worker. */
export class Feedback {
  /** Counters, indexed by edge identifier. */
  readonly e: Uint8Array;
  /** Recording comparisons? (the CmpLog run) */
  r = false;
  /** The comparisons recorded since {@link startRecording}, each pair once. */
  readonly recorded: Comparison[] = [];
  private readonly pairs = new Set<string>();
  /** The counters four at a time. */
  private readonly words: Uint32Array;
  /** Per edge, the count classes seen so far (AFL's virgin map, inverted). */
  readonly seen: Uint8Array;
  /** Edges seen at least once. */
  edgesSeen = 0;

  /** @param edges number of edge identifiers of the instrumented tree */
  constructor(edges: number) {
    const size = (edges + 3) & ~3;
    this.e = new Uint8Array(size);
    this.words = new Uint32Array(this.e.buffer);
    this.seen = new Uint8Array(size);
  }

  private note(a: unknown, b: unknown): void {
    if (this.recorded.length < MAX_RECORDED && interesting(a) && interesting(b)) {
      const key = `${typeof a}:${a}:${typeof b}:${b}`;
      if (this.pairs.has(key)) return;
      this.pairs.add(key);
      this.recorded.push({ a, b });
    }
  }

  /** `a === b`, recorded. */
  eq(_id: number, a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (this.r) this.note(a, b);
    return false;
  }
  /** `a !== b`, recorded. */
  ne(_id: number, a: unknown, b: unknown): boolean {
    if (a === b) return false;
    if (this.r) this.note(a, b);
    return true;
  }
  /** `a == b`, recorded. */
  leq(_id: number, a: unknown, b: unknown): boolean {
    // deno-lint-ignore eqeqeq
    if (a == b) return true;
    if (this.r) this.note(a, b);
    return false;
  }
  /** `a != b`, recorded. */
  lne(_id: number, a: unknown, b: unknown): boolean {
    // deno-lint-ignore eqeqeq
    if (a == b) return false;
    if (this.r) this.note(a, b);
    return true;
  }
  /** `a < b`, recorded (both sides of the boundary are worth trying). */
  lt(_id: number, a: never, b: never): boolean {
    if (this.r) this.note(a, b);
    return a < b;
  }
  /** `a <= b`, recorded. */
  le(_id: number, a: never, b: never): boolean {
    if (this.r) this.note(a, b);
    return a <= b;
  }
  /** `a > b`, recorded. */
  gt(_id: number, a: never, b: never): boolean {
    if (this.r) this.note(a, b);
    return a > b;
  }
  /** `a >= b`, recorded. */
  ge(_id: number, a: never, b: never): boolean {
    if (this.r) this.note(a, b);
    return a >= b;
  }
  /** A switch discriminant while recording: each case value it did not equal. */
  sw<T>(_id: number, x: T, cases: () => unknown[]): T {
    for (const c of cases()) if (c !== x) this.note(x, c);
    return x;
  }

  /** Clears the counters before a run. */
  reset(): void {
    this.e.fill(0);
  }

  /**
   * After a run: true when it reached an edge, or a count class of an edge,
   * no earlier run reached; those are added to what has been seen.
   */
  novel(): boolean {
    const e = this.e;
    const seen = this.seen;
    const words = this.words;
    let found = false;
    for (let w = 0; w < words.length; w++) {
      if (words[w] === 0) continue; // four edges at a time: most are not reached
      for (let i = 4 * w; i < 4 * w + 4; i++) {
        const n = e[i];
        if (n === 0) continue;
        const bucket = BUCKET[n];
        const before = seen[i];
        if ((before & bucket) === 0) {
          if (before === 0) this.edgesSeen++;
          seen[i] = before | bucket;
          found = true;
        }
      }
    }
    return found;
  }

  /**
   * What the last run reached, as features: edge identifier × 8 + count
   * class (for corpus minimisation).
   */
  features(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.e.length; i++) {
      const n = this.e[i];
      if (n !== 0) out.push(i * 8 + 31 - Math.clz32(BUCKET[n]));
    }
    return out;
  }

  /** Starts recording comparisons for one run. */
  startRecording(): void {
    this.recorded.length = 0;
    this.pairs.clear();
    this.r = true;
  }

  /** Stops recording; returns what was recorded. */
  stopRecording(): Comparison[] {
    this.r = false;
    return this.recorded.splice(0);
  }
}

/** Installs the global `__fz` the instrumented modules use. */
export function installFeedback(edges: number): Feedback {
  const feedback = new Feedback(edges);
  (globalThis as unknown as { __fz: Feedback }).__fz = feedback;
  return feedback;
}
