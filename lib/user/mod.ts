/**
 * The Pool User (RFC 5352) as a sans-IO state machine.
 *
 * @module
 */

export {
  PoolUser,
  type PoolUserEvent,
  type PoolUserOptions,
  type PoolUserTimers,
  RFC_USER_TIMERS,
  type SessionState,
} from "./user.ts";
export * from "../role/actions.ts";
