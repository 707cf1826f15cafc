/**
 * Pool member selection policies (RFC 5356 and RSPLIB's extensions): their
 * semantics, the per-pool selection structures, and injectable randomness.
 *
 * @module
 */

export { MAX_POLICY_VALUE, PolicyEntry } from "./entry.ts";
export {
  freeCapacity,
  POLICY_BEHAVIOURS,
  type PolicyBehaviour,
  rint,
  saturatedSum,
  type SelectionKind,
} from "./policies.ts";
export { randomBelow, type RandomSource, SeededRandom, systemRandom } from "./random.ts";
export {
  createSelection,
  OrderedSelection,
  RoundRobinSelection,
  Selection,
  UniformSelection,
  WeightedSelection,
} from "./selection.ts";
