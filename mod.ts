/**
 * rserpool: Reliable Server Pooling (RSerPool) for Deno, Node and Bun.
 *
 * This module re-exports the public API: message codecs for ASAP
 * (RFC 5352) and ENRP (RFC 5353), their errors, the handlespace and the
 * pool member selection policies (RFC 5356). Captures and the CLI have
 * their own entry points (`./capture`, `./cli`).
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
