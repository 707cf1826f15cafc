/**
 * The Pool Registrar (RFC 5352, RFC 5353) as a sans-IO state machine.
 *
 * @module
 */

export { type PeerStatus, Registrar, type RegistrarStatus } from "./registrar.ts";
export {
  type AuthorizationRequest,
  type RegistrarEvent,
  type RegistrarOptions,
  type RegistrarTimers,
  type RemovalReason,
  RFC_REGISTRAR_TIMERS,
  RSPLIB_REGISTRAR_TIMERS,
} from "./options.ts";
export * from "../role/actions.ts";
