/**
 * The selection state every pool element carries: its policy values and
 * the counters the policies keep (RSPLIB's `PoolElementNode` fields).
 *
 * @module
 */

import type { Identifier, PoolMemberSelectionPolicy } from "../protocol/types.ts";

/** Largest load, weight and factor: 0xffffffff stands for 100 %. */
export const MAX_POLICY_VALUE = 0xffffffff;

/** A pool element as the selection policies see it. */
export class PolicyEntry {
  /** The PE identifier (used to order value-based selections deterministically). */
  identifier: Identifier;
  /** The policy as registered. */
  policy: PoolMemberSelectionPolicy;

  /** Weight (WRR, WRAND, WRAND-DPF) or priority (PRI). */
  weight = 0;
  /** Load, 0 … 0xffffffff. */
  load = 0;
  /** Load degradation (or load increment for the priority-least-used policies). */
  loadDegradation = 0;
  /** Load distance penalty factor. */
  loadDpf = 0;
  /** Weight distance penalty factor. */
  weightDpf = 0;
  /** Distance in milliseconds. */
  distance = 0;

  /** Position in the pool's round-robin order: lower is selected first. */
  seq = 0;
  /** Degradation accumulated since the last registration (LUD family). */
  degradation = 0;
  /** WRR: round this element is in. */
  roundCounter = 0;
  /** WRR: selections left in the current round. */
  virtualCounter = 0;
  /** How often the element has been selected. */
  selectionCounter = 0;

  /** Primary sort key (ordered policies). */
  key1 = 0;
  /** Secondary sort key (ordered policies). */
  key2 = 0;
  /** Selection weight (value-based policies). */
  value = 0;
  /** Position in the pool's selection structure; -1 when not linked. */
  index: number = -1;
  /** Round robin: previous element. */
  previous: PolicyEntry | undefined = undefined;
  /** Round robin: next element. */
  following: PolicyEntry | undefined = undefined;

  /**
   * Creates the entry for an element with its policy.
   *
   * @param identifier the PE identifier
   * @param policy its policy and values
   */
  constructor(identifier: Identifier, policy: PoolMemberSelectionPolicy) {
    this.identifier = identifier;
    this.policy = policy;
    this.setPolicyValues(policy);
  }

  /** Copies the policy's values into the numeric fields. */
  setPolicyValues(policy: PoolMemberSelectionPolicy): void {
    this.policy = policy;
    const p = policy as unknown as Partial<Record<string, number>>;
    this.weight = p.weight ?? p.priority ?? 0;
    this.load = p.load ?? 0;
    this.loadDegradation = p.loadDegradation ?? 0;
    this.loadDpf = p.loadDpf ?? 0;
    this.weightDpf = p.weightDpf ?? 0;
    this.distance = p.distance ?? 0;
  }
}
