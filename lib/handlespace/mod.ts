/**
 * The handlespace: pools and pool elements with ownership, expiry,
 * selection, checksums and handle table pages.
 *
 * ```ts
 * import { Handlespace, SeededRandom } from "@rserpool/rserpool/handlespace";
 *
 * const handlespace = new Handlespace({ random: new SeededRandom(1) });
 * const poolHandle = new TextEncoder().encode("EchoPool");
 * handlespace.register(poolHandle, {
 *   identifier: 0x1234,
 *   homeRegistrarId: 0,
 *   registrationLife: 30_000,
 *   userTransport: { type: "TCP", port: 7, transportUse: 0, addresses: ["127.0.0.1"] },
 *   policy: { type: "RoundRobin" },
 * }, { now: 0, homeRegistrarId: 0xabcd });
 * const [element] = handlespace.resolve(poolHandle, 1);
 * ```
 *
 * @module
 */

export {
  type ChecksumVariant,
  DEFAULT_HANDLESPACE_LIMITS,
  Handlespace,
  type HandlespaceLimits,
  type HandlespaceOptions,
  type HandleTablePage,
  type PageCursor,
  type RegistrationContext,
  type RegistrationResult,
} from "./handlespace.ts";
export { type ConnectionKey, PoolElementNode } from "./node.ts";
export { compareIdentifiers, type HandleSums, Pool, poolKey } from "./pool.ts";
export { ExpiryHeap } from "./expiry.ts";
export { SlotList, type Slotted, TombstoneMap } from "./index.ts";
export { PoolTable } from "./pooltable.ts";
export * from "../policy/mod.ts";
