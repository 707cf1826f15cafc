/**
 * The handlespace benchmark cases, named `<operation> <Policy> <pools>x<elements>`:
 * operations `register`, `deregister`, `resolve1`, `resolve3`; policies
 * `RoundRobin`, `Random`, `LeastUsed`, `WeightedRandom`; sizes `1x10` …
 * `1x100000` and `1000x10`. Each case prepares a handlespace of that size
 * and offers `batch()`, which performs a number of operations and returns
 * how many it did and how long the timed part took.
 *
 * - register: new registrations into pools of about the given size (the
 *   untimed part of each batch first deregisters the elements it re-adds).
 * - deregister: the reverse.
 * - resolveN: handle resolutions of N elements, cycling over the pools.
 *
 * `prepareChecksum()` times reading the handlespace checksum of a size.
 *
 * A baseline per size, `baseline Map.get <pools>x<elements>`, times a plain
 * `Map` lookup among as many entries: ratios against it compare runs on
 * different machines.
 */
import { Handlespace } from "../lib/handlespace/handlespace.ts";
import { SeededRandom } from "../lib/policy/random.ts";
import type { PoolElementParameter, PoolMemberSelectionPolicy } from "../lib/protocol/types.ts";

/** One prepared benchmark case. */
export interface BenchCase {
  /** `<operation> <Policy> <pools>x<elements>`. */
  readonly name: string;
  /** Runs one batch; returns operations done and milliseconds spent on them. */
  batch(): { operations: number; milliseconds: number };
}

/** The operations. */
export const OPERATIONS = ["register", "deregister", "resolve1", "resolve3"] as const;
/** The policies. */
export const POLICIES = ["RoundRobin", "Random", "LeastUsed", "WeightedRandom"] as const;
/** The sizes as [pools, elements per pool]. */
export const SIZES: readonly [number, number][] = [
  [1, 10],
  [1, 100],
  [1, 1000],
  [1, 10000],
  [1, 100000],
  [1000, 10],
];

type PolicyName = typeof POLICIES[number];
type Operation = typeof OPERATIONS[number];

function policyFor(name: PolicyName, random: SeededRandom): PoolMemberSelectionPolicy {
  switch (name) {
    case "RoundRobin":
      return { type: "RoundRobin" };
    case "Random":
      return { type: "Random" };
    case "LeastUsed":
      return { type: "LeastUsed", load: Math.floor(random.next() * 0xffffffff) };
    case "WeightedRandom":
      return { type: "WeightedRandom", weight: 1 + Math.floor(random.next() * 100) };
  }
}

const encoder = new TextEncoder();

/** A filled handlespace of one size and policy, as the cases build it. */
interface Filled {
  readonly handlespace: Handlespace;
  readonly handles: Uint8Array[];
  readonly elements: PoolElementParameter[][];
  readonly context: { now: number; homeRegistrarId: number };
}

function fill(policy: PolicyName, pools: number, perPool: number): Filled {
  const random = new SeededRandom(pools * 1_000_003 + perPool);
  const handlespace = new Handlespace({
    random,
    limits: {
      maxElementsPerPool: perPool * 2 + 10,
      maxElements: pools * perPool * 2 + 10,
      maxPools: pools + 10,
    },
  });
  const handles = Array.from(
    { length: pools },
    (_, i) => encoder.encode(`Pool-${String(i).padStart(4, "0")}`),
  );
  const elements: PoolElementParameter[][] = handles.map((_, p) =>
    Array.from({ length: perPool }, (_, i) => ({
      identifier: p * perPool + i + 1,
      homeRegistrarId: 0,
      registrationLife: 3_600_000,
      userTransport: {
        type: "SCTP" as const,
        port: 10000 + (i % 50000),
        transportUse: 0,
        addresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
      },
      policy: policyFor(policy, random),
    }))
  );
  const context = { now: 0, homeRegistrarId: 0x1000 };
  for (let p = 0; p < pools; p++) {
    for (const e of elements[p]) handlespace.register(handles[p], e, context);
  }
  return { handlespace, handles, elements, context };
}

/** Prepares one case. */
export function prepare(
  operation: Operation,
  policy: PolicyName,
  pools: number,
  perPool: number,
): BenchCase {
  const { handlespace, handles, elements, context } = fill(policy, pools, perPool);
  const name = `${operation} ${policy} ${pools}x${perPool}`;
  // The elements batches of register/deregister work on: up to 1000, spread over the pools.
  const chunk = Math.min(1000, pools * perPool);
  // Parallel arrays walked by index: the timed loops do nothing but the operation.
  const victimHandles: Uint8Array[] = [];
  const victims: PoolElementParameter[] = [];
  for (let k = 0; k < chunk; k++) {
    const p = k % pools;
    const i = Math.floor(k / pools) % perPool;
    victimHandles.push(handles[p]);
    victims.push(elements[p][perPool - 1 - i]);
  }
  const n = victims.length;
  const deregisterAll = () => {
    for (let k = 0; k < n; k++) handlespace.deregister(victimHandles[k], victims[k].identifier);
  };
  const registerAll = () => {
    for (let k = 0; k < n; k++) handlespace.register(victimHandles[k], victims[k], context);
  };
  switch (operation) {
    case "register":
      return {
        name,
        batch() {
          deregisterAll();
          const start = performance.now();
          registerAll();
          return { operations: n, milliseconds: performance.now() - start };
        },
      };
    case "deregister":
      return {
        name,
        batch() {
          const start = performance.now();
          deregisterAll();
          const milliseconds = performance.now() - start;
          registerAll();
          return { operations: n, milliseconds };
        },
      };
    default: {
      const count = operation === "resolve1" ? 1 : 3;
      let p = 0;
      return {
        name,
        batch() {
          const n = 10_000;
          let sink = 0;
          const start = performance.now();
          for (let k = 0; k < n; k++) {
            sink += handlespace.resolve(handles[p], count).length;
            if (++p === pools) p = 0;
          }
          const milliseconds = performance.now() - start;
          if (sink !== n * Math.min(count, perPool)) throw new Error(`${name}: short resolutions`);
          return { operations: n, milliseconds };
        },
      };
    }
  }
}

/** A checksum case: the handlespace's checksum and the case reading it. */
export interface ChecksumCase extends BenchCase {
  /** The checksum of the whole handlespace as RSPLIB computes it (`rsplib16`). */
  readonly rsplibChecksum: number;
}

/**
 * `checksum <pools>x<elements>`: reading the checksum over the whole
 * handlespace (RoundRobin pools), 100,000 reads per batch. The `rsplib16`
 * variant is RSPLIB's own checksum, so `rsplibChecksum` must equal what
 * RSPLIB computes for the same elements.
 */
export function prepareChecksum(pools: number, perPool: number): ChecksumCase {
  const { handlespace } = fill("RoundRobin", pools, perPool);
  return {
    name: `checksum ${pools}x${perPool}`,
    rsplibChecksum: handlespace.checksum(undefined, "rsplib16"),
    batch() {
      const n = 100_000;
      let sink = 0;
      const start = performance.now();
      for (let k = 0; k < n; k++) sink ^= handlespace.checksum(undefined, "rsplib16") + k;
      const milliseconds = performance.now() - start;
      if (sink === -1) throw new Error("unreachable");
      return { operations: n, milliseconds };
    },
  };
}

/** The baseline of a size: `Map.get` among as many entries. */
export function prepareBaseline(pools: number, perPool: number): BenchCase {
  const n = pools * perPool;
  const map = new Map<number, { id: number }>();
  for (let i = 1; i <= n; i++) map.set(i, { id: i });
  let k = 1;
  return {
    name: `baseline Map.get ${pools}x${perPool}`,
    batch() {
      const ops = 100_000;
      let sink = 0;
      const start = performance.now();
      for (let i = 0; i < ops; i++) {
        sink += map.get(k)!.id;
        if (++k > n) k = 1;
      }
      const milliseconds = performance.now() - start;
      if (sink === 0) throw new Error("unreachable");
      return { operations: ops, milliseconds };
    },
  };
}
