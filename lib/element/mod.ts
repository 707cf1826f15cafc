/**
 * The Pool Element (RFC 5352) as a sans-IO state machine.
 *
 * @module
 */

export {
  PoolElement,
  type PoolElementEvent,
  type PoolElementOptions,
  type PoolElementTimers,
  RFC_ELEMENT_TIMERS,
} from "./element.ts";
export * from "../role/actions.ts";
