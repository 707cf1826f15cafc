/**
 * The suite's own model of how a registrar applies an ordered selection
 * policy to a handle resolution (RFC 5356 §4–§5, with RSPLIB's rules where
 * the RFC is silent; docs/policies.md): elements sorted by the policy's key,
 * ties by a sequence number that a selection renews (round robin among
 * equals); the first `maxIncrement` elements of each response are the
 * selected ones, whose degradation (and WRR round) advance. Written apart
 * from `lib/policy` on purpose: the suite must not share code with what it
 * judges.
 *
 * @module
 */

import type { Identifier, PoolMemberSelectionPolicy } from "../../lib/protocol/types.ts";

/** 100 % of a load, a load degradation or a distance penalty factor. */
export const FULL = 0xffffffff;

/** A load (or load degradation) of `percent` %, as a 32-bit fraction. */
export function percent(percent: number): number {
  return Math.round(percent / 100 * FULL);
}

const saturate = (v: number) => v > FULL ? FULL : v;

/** C's `rint` (round half to even), as RSPLIB's DPF policies use it. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Entry {
  readonly id: Identifier;
  seq: number;
  policy: PoolMemberSelectionPolicy;
  degradation: number;
  round: number;
  remaining: number;
}

function weightOf(p: PoolMemberSelectionPolicy): number {
  return "weight" in p ? p.weight : 1;
}

function degradationOf(p: PoolMemberSelectionPolicy): number {
  return "loadDegradation" in p ? p.loadDegradation : 0;
}

/** Whether selecting an element of this policy adds its load degradation to its degradation. */
export function degrades(type: PoolMemberSelectionPolicy["type"]): boolean {
  return type === "LeastUsedDegradation" || type === "PriorityLeastUsedDegradation" ||
    type === "LeastUsedDegradationDPF" || type === "PriorityLeastUsedDegradationDPF" ||
    type === "RandomizedLeastUsedDegradation" || type === "RandomizedPriorityLeastUsedDegradation";
}

/** The ordered policies' sort key (lower first). */
function key(e: Entry): [number, number] {
  const p = e.policy;
  const dpf = (load: number, p2: { loadDpf: number; distance: number }) =>
    saturate(rint(load + p2.distance * p2.loadDpf));
  switch (p.type) {
    case "RoundRobin":
      return [0, 0];
    case "WeightedRoundRobin":
      return [e.round, e.remaining];
    case "Priority":
      return [FULL - p.priority, 0];
    case "LeastUsed":
      return [p.load, 0];
    case "LeastUsedDegradation":
      return [saturate(p.load + e.degradation), 0];
    case "PriorityLeastUsed":
      return [saturate(p.load + p.loadDegradation), 0];
    case "PriorityLeastUsedDegradation":
      return [saturate(p.load + p.loadDegradation + e.degradation), 0];
    case "LeastUsedDPF":
      return [dpf(p.load, p), 0];
    case "LeastUsedDegradationDPF":
      return [dpf(p.load + e.degradation, p), 0];
    case "PriorityLeastUsedDPF":
      return [dpf(p.load + p.loadDegradation, p), 0];
    case "PriorityLeastUsedDegradationDPF":
      return [dpf(p.load + p.loadDegradation + e.degradation, p), 0];
    default:
      throw new Error(`${p.type} is not an ordered policy`);
  }
}

/** A pool as the model sees it. */
export class OrderedPoolModel {
  private readonly entries: Entry[] = [];
  private nextSeq = 0;

  /**
   * @param maxIncrement elements moved on per selection (the target's
   *   setting; 0 means each policy's default, 1)
   */
  constructor(private readonly maxIncrement: number) {}

  /** An element registers (it sorts after everything already there). */
  add(id: Identifier, policy: PoolMemberSelectionPolicy): void {
    // WRR: a newcomer joins the current round (the lowest round of those there).
    const round = this.entries.length === 0 ? 0 : Math.min(...this.entries.map((e) => e.round));
    this.entries.push({
      id,
      seq: this.nextSeq++,
      policy,
      degradation: 0,
      round,
      remaining: weightOf(policy),
    });
  }

  /** An element re-registers: new values, degradation reset, WRR's remaining capped. */
  update(id: Identifier, policy: PoolMemberSelectionPolicy): void {
    const e = this.entries.find((x) => x.id === id);
    if (e === undefined) return this.add(id, policy);
    e.policy = policy;
    e.degradation = 0;
    e.remaining = Math.min(e.remaining, weightOf(policy));
  }

  /** A handle resolution of `n` elements: the order it returns them in. */
  select(n: number): Identifier[] {
    const sorted = [...this.entries].sort((a, b) => {
      const [a1, a2] = key(a);
      const [b1, b2] = key(b);
      return a1 - b1 || a2 - b2 || a.seq - b.seq;
    });
    const chosen = sorted.slice(0, n);
    const moved = Math.min(chosen.length, this.maxIncrement === 0 ? 1 : this.maxIncrement);
    for (const e of chosen.slice(0, moved)) {
      e.seq = this.nextSeq++;
      if (degrades(e.policy.type)) {
        e.degradation = saturate(e.degradation + degradationOf(e.policy));
      }
      if (e.policy.type === "WeightedRoundRobin") {
        if (e.remaining > 1) {
          e.remaining--;
        } else {
          e.round++;
          e.remaining = weightOf(e.policy);
        }
      }
    }
    return chosen.map((e) => e.id);
  }
}
