/**
 * rserpool: Reliable Server Pooling (RSerPool) for Deno, Node and Bun.
 *
 * This module re-exports the public API: message codecs for ASAP
 * (RFC 5352) and ENRP (RFC 5353), their errors, the handlespace and the
 * pool member selection policies (RFC 5356), and the sans-IO roles: Pool
 * Registrar, Pool Element and Pool User. Captures, the simulator and the
 * CLI have their own entry points (`./capture`, `./sim`, `./cli`).
 *
 * ```ts
 * import { decodeMessage, encodeAsap } from "@rserpool/rserpool";
 *
 * const bytes = encodeAsap({
 *   type: "HandleResolution",
 *   poolHandle: new TextEncoder().encode("EchoPool"),
 * });
 * const message = decodeMessage(11, bytes);
 * console.log(message.type); // "HandleResolution"
 * ```
 *
 * @module
 */

export * from "./lib/errors.ts";
export * from "./lib/protocol/mod.ts";
export * from "./lib/handlespace/mod.ts";
export * from "./lib/role/actions.ts";
export {
  type AuthorizationRequest,
  type PeerStatus,
  Registrar,
  type RegistrarEvent,
  type RegistrarOptions,
  type RegistrarStatus,
  type RegistrarTimers,
  type RemovalReason,
  RFC_REGISTRAR_TIMERS,
  RSPLIB_REGISTRAR_TIMERS,
} from "./lib/registrar/mod.ts";
export {
  PoolElement,
  type PoolElementEvent,
  type PoolElementOptions,
  type PoolElementTimers,
  RFC_ELEMENT_TIMERS,
} from "./lib/element/mod.ts";
export {
  PoolUser,
  type PoolUserEvent,
  type PoolUserOptions,
  type PoolUserTimers,
  RFC_USER_TIMERS,
  type SessionState,
} from "./lib/user/mod.ts";
