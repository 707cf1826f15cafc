/**
 * How each pool member selection policy orders or weighs pool elements
 * (RFC 5356 §3, and RSPLIB 3.4.4's `poolpolicy-template_impl.h` where the
 * RFC is silent or the policy is RSPLIB's own). `docs/policies.md` explains
 * every choice.
 *
 * @module
 */

import type { PolicyName } from "../protocol/types.ts";
import { MAX_POLICY_VALUE, type PolicyEntry } from "./entry.ts";

/**
 * How a policy selects: in a fixed order (`roundRobin`, `ordered`: lowest
 * keys first), uniformly at random (`uniform`), or at random in proportion
 * to a value (`weighted`).
 */
export type SelectionKind = "roundRobin" | "ordered" | "uniform" | "weighted";

/** The behaviour of one policy. */
export interface PolicyBehaviour {
  /** The policy. */
  readonly name: PolicyName;
  /** How it selects. */
  readonly kind: SelectionKind;
  /**
   * How many of the selected elements are moved on (re-sequenced, degraded)
   * per selection when the registrar does not say otherwise (RSPLIB's
   * `DefaultMaxIncrement`).
   */
  readonly defaultMaxIncrement: number;
  /** Ordered policies: sets `key1`/`key2` from the entry's values. */
  readonly keys?: (e: PolicyEntry) => void;
  /** Weighted policies: the selection weight. */
  readonly value?: (e: PolicyEntry) => number;
  /** Called on a selected element (within the max increment). */
  readonly update?: (e: PolicyEntry) => void;
}

/** RSPLIB's `getSum`: the sum of loads, saturated to [0, 0xffffffff]. */
export function saturatedSum(a: number, b: number, c = 0): number {
  const v = a + b + c;
  return v > MAX_POLICY_VALUE ? MAX_POLICY_VALUE : v;
}

/** RSPLIB's `getValueFraction`: free capacity, at least 1 so a full element stays selectable. */
export function freeCapacity(a: number, b = 0, c = 0): number {
  const v = MAX_POLICY_VALUE - a - b - c;
  return v < 1 ? 1 : v;
}

/** C's `rint` (round half to even), as RSPLIB's DPF computations use it. */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The distance penalty: distance (ms) times a factor given as a 32-bit fraction. */
function penalty(distance: number, factor: number): number {
  return distance * (factor / MAX_POLICY_VALUE);
}

function capped(v: number): number {
  return v > MAX_POLICY_VALUE ? MAX_POLICY_VALUE : v;
}

function degrade(e: PolicyEntry): void {
  e.degradation = saturatedSum(e.degradation, e.loadDegradation);
}

const ordered = (
  name: PolicyName,
  key: (e: PolicyEntry) => number,
  update?: (e: PolicyEntry) => void,
): PolicyBehaviour => ({
  name,
  kind: "ordered",
  defaultMaxIncrement: 1,
  keys: (e) => {
    e.key1 = key(e);
    e.key2 = 0;
  },
  update,
});

const weighted = (
  name: PolicyName,
  value: (e: PolicyEntry) => number,
  defaultMaxIncrement: number,
  update?: (e: PolicyEntry) => void,
): PolicyBehaviour => ({ name, kind: "weighted", defaultMaxIncrement, value, update });

/** Every policy's behaviour, by name. */
export const POLICY_BEHAVIOURS: ReadonlyMap<PolicyName, PolicyBehaviour> = new Map(
  ([
    // RFC 5356 §3.1.1: cyclic order; selected elements move to the end.
    { name: "RoundRobin", kind: "roundRobin", defaultMaxIncrement: 1 },
    // RFC 5356 §3.1.2, RSPLIB: an element of weight w is selected w times per round.
    {
      name: "WeightedRoundRobin",
      kind: "ordered",
      defaultMaxIncrement: 1,
      keys: (e: PolicyEntry) => {
        e.key1 = e.roundCounter;
        e.key2 = e.virtualCounter;
      },
      update: (e: PolicyEntry) => {
        if (e.virtualCounter > 1) {
          e.virtualCounter--;
        } else {
          e.roundCounter++;
          e.virtualCounter = e.weight;
        }
      },
    },
    // RFC 5356 §3.1.3.
    { name: "Random", kind: "uniform", defaultMaxIncrement: 0 },
    // RFC 5356 §3.1.4: probability proportional to the weight (weight 0: never).
    weighted("WeightedRandom", (e) => e.weight, 0),
    // RFC 5356 §3.1.5: highest priority first, round robin among equals.
    ordered("Priority", (e) => MAX_POLICY_VALUE - e.weight),
    // RFC 5356 §3.2.1: lowest load first, round robin among equals.
    ordered("LeastUsed", (e) => e.load),
    // RFC 5356 §3.2.2: load plus the degradation accumulated since the last registration.
    ordered("LeastUsedDegradation", (e) => saturatedSum(e.load, e.degradation), degrade),
    // RFC 5356 §3.2.3: load after taking the request (load + load increment), not accumulated.
    ordered("PriorityLeastUsed", (e) => saturatedSum(e.load, e.loadDegradation)),
    // RFC 5356 §3.2.4: probability proportional to the unused capacity.
    weighted("RandomizedLeastUsed", (e) => freeCapacity(e.load), 1),
    // RSPLIB extensions.
    weighted("RandomizedPriorityLeastUsed", (e) => freeCapacity(e.load, e.loadDegradation), 1),
    weighted(
      "RandomizedLeastUsedDegradation",
      (e) => freeCapacity(e.load, e.degradation),
      1,
      degrade,
    ),
    ordered(
      "PriorityLeastUsedDegradation",
      (e) => saturatedSum(e.load, e.loadDegradation, e.degradation),
      degrade,
    ),
    weighted(
      "RandomizedPriorityLeastUsedDegradation",
      (e) => freeCapacity(e.load, e.loadDegradation, e.degradation),
      1,
      degrade,
    ),
    // draft-dreibholz-rserpool-delay: distance penalty factor policies.
    weighted("WeightedRandomDPF", (e) => {
      const v = e.weight - rint(e.weight * penalty(e.distance, e.weightDpf));
      return v < 0 ? 1 : capped(v);
    }, 0),
    ordered(
      "LeastUsedDPF",
      (e) => capped(rint(e.load + penalty(e.distance, e.loadDpf) * MAX_POLICY_VALUE)),
    ),
    ordered(
      "LeastUsedDegradationDPF",
      (e) =>
        capped(rint(e.load + e.degradation + penalty(e.distance, e.loadDpf) * MAX_POLICY_VALUE)),
      degrade,
    ),
    ordered(
      "PriorityLeastUsedDPF",
      (e) =>
        capped(
          rint(e.load + e.loadDegradation + penalty(e.distance, e.loadDpf) * MAX_POLICY_VALUE),
        ),
    ),
    ordered(
      "PriorityLeastUsedDegradationDPF",
      (e) =>
        capped(
          rint(
            e.load + e.loadDegradation + e.degradation +
              penalty(e.distance, e.loadDpf) * MAX_POLICY_VALUE,
          ),
        ),
      degrade,
    ),
  ] as PolicyBehaviour[]).map((b) => [b.name, b]),
);
