/**
 * The handlespace (RFC 5351 §2): every pool and pool element a registrar
 * knows, with ownership by home registrar, registration expiry, selection
 * by each pool's policy, incremental checksums per owner, and stable pages
 * for handle table transfers. No I/O and no clock: time is passed in.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { POLICY_BEHAVIOURS, type PolicyBehaviour } from "../policy/policies.ts";
import { type RandomSource, systemRandom } from "../policy/random.ts";
import { ChecksumAccumulator, RsplibChecksumAccumulator } from "../protocol/checksum.ts";
import {
  encodePolicyParameter,
  encodePoolHandleParameter,
  encodeTransportParameter,
} from "../protocol/codec.ts";
import { ErrorCauseCode } from "../protocol/constants.ts";
import type { Identifier, PolicyName, PoolElementParameter } from "../protocol/types.ts";
import { ExpiryHeap } from "./expiry.ts";
import { type ConnectionKey, PoolElementNode } from "./node.ts";
import { addToList, removeFromList, SlotList } from "./index.ts";
import { compareIdentifiers, Pool, usesControlChannel } from "./pool.ts";
import { PoolTable } from "./pooltable.ts";

/** Slot kinds of a node's {@link SlotList}s. */
const OWNER_SLOT = 0;
const CONNECTION_SLOT = 1;

/** Limits that protect a registrar's memory. Exceeding one is a {@link ProtocolError}. */
export interface HandlespaceLimits {
  /** Most pools. */
  readonly maxPools: number;
  /** Most pool elements in all. */
  readonly maxElements: number;
  /** Most elements in one pool. */
  readonly maxElementsPerPool: number;
  /** Most elements registered over one connection. */
  readonly maxElementsPerConnection: number;
  /** Longest pool handle in bytes (RSPLIB: 32). */
  readonly maxPoolHandleLength: number;
}

/** The default {@link HandlespaceLimits}. */
export const DEFAULT_HANDLESPACE_LIMITS: HandlespaceLimits = Object.freeze({
  maxPools: 100_000,
  maxElements: 1_000_000,
  maxElementsPerPool: 200_000,
  maxElementsPerConnection: 1_000,
  maxPoolHandleLength: 32,
});

/** Options of a {@link Handlespace}. */
export interface HandlespaceOptions {
  /** Limits; unspecified ones keep their defaults. */
  readonly limits?: Partial<HandlespaceLimits>;
  /** Randomness for the randomized policies (default: `Math.random`). */
  readonly random?: RandomSource;
  /**
   * How many selected elements each handle resolution moves on (RSPLIB's
   * `-maxincrement`); 0 (default): each policy's default.
   */
  readonly maxIncrement?: number;
  /**
   * Refuse (cause 0x0004, Non-unique PE Identifier) a registration of an
   * existing identifier over another connection than the one that
   * registered it, instead of moving the element to the new connection
   * (RSPLIB's behaviour, the default). A defence against spoofed
   * re-registrations (RFC 5355 §2.3).
   */
  readonly uniqueConnection?: boolean;
}

/** Where a registration comes from. */
export interface RegistrationContext {
  /** Current time in milliseconds. */
  readonly now: number;
  /** The owner (home registrar) to record. */
  readonly homeRegistrarId: Identifier;
  /** The connection it arrived on, when registered over ASAP. */
  readonly connection?: ConnectionKey;
  /** The element's ASAP endpoint, overriding the one in the element. */
  readonly asapTransport?: PoolElementParameter["asapTransport"];
}

/** What a registration did. */
export interface RegistrationResult {
  /** The element as stored. */
  readonly node: PoolElementNode;
  /** True for a new element, false for an update of an existing one. */
  readonly added: boolean;
}

/** A position in the handlespace's (pool handle, PE identifier) order. */
export interface PageCursor {
  /** Key of the pool handle of the last element delivered. */
  readonly poolKey: string;
  /** Identifier of the last element delivered. */
  readonly identifier: Identifier;
}

/** One page of a handle table transfer (RFC 5353 §2.3, "more to send"). */
export interface HandleTablePage {
  /** The elements of this page, grouped by pool, in (handle, identifier) order. */
  readonly pools: readonly { readonly pool: Pool; readonly elements: readonly PoolElementNode[] }[];
  /** Where to continue, or undefined when nothing is left. */
  readonly next: PageCursor | undefined;
}

/** The checksums the handlespace keeps. */
export type ChecksumVariant = "internet16" | "internet32" | "rsplib16";

/** Bits of the {@link ChecksumVariant}s a handlespace keeps up to date. */
const INTERNET16 = 1;
const INTERNET32 = 2;
const RSPLIB16 = 4;

function variantBit(variant: ChecksumVariant): number {
  return variant === "internet16" ? INTERNET16 : variant === "internet32" ? INTERNET32 : RSPLIB16;
}

/**
 * The checksums over a set of elements (one owner's, or all). Only the
 * variants in `tracked` are kept up to date: a registrar reads one variant
 * (Internet-16, RSPLIB's, or Internet-32 in the next-generation profile),
 * and keeping the others would cost every registration and removal.
 */
class OwnerChecksums {
  internet16 = new ChecksumAccumulator(16);
  internet32 = new ChecksumAccumulator(32);
  rsplib16 = new RsplibChecksumAccumulator();

  add(node: PoolElementNode, tracked: number): void {
    if ((tracked & INTERNET16) !== 0) this.internet16.add(node.checksumTerm16);
    if ((tracked & INTERNET32) !== 0) this.internet32.add(node.checksumTerm32);
    if ((tracked & RSPLIB16) !== 0) this.rsplib16.add(node.rsplibTerm);
  }

  subtract(node: PoolElementNode, tracked: number): void {
    if ((tracked & INTERNET16) !== 0) this.internet16.subtract(node.checksumTerm16);
    if ((tracked & INTERNET32) !== 0) this.internet32.subtract(node.checksumTerm32);
    if ((tracked & RSPLIB16) !== 0) this.rsplib16.subtract(node.rsplibTerm);
  }

  /** Starts keeping `bit`'s variant: recomputes it over `nodes`. */
  track(bit: number, nodes: Iterable<PoolElementNode>): void {
    if (bit === INTERNET16) {
      this.internet16 = new ChecksumAccumulator(16);
      for (const node of nodes) this.internet16.add(node.checksumTerm16);
    } else if (bit === INTERNET32) {
      this.internet32 = new ChecksumAccumulator(32);
      for (const node of nodes) this.internet32.add(node.checksumTerm32);
    } else {
      this.rsplib16 = new RsplibChecksumAccumulator();
      for (const node of nodes) this.rsplib16.add(node.rsplibTerm);
    }
  }

  value(variant: ChecksumVariant): number {
    switch (variant) {
      case "internet16":
        return this.internet16.value;
      case "internet32":
        return this.internet32.value;
      default:
        return this.rsplib16.value;
    }
  }
}

function swap16(w: number): number {
  return ((w >>> 8) | ((w & 0xff) << 8)) & 0xffff;
}

function setChecksumTerms(node: PoolElementNode): void {
  const sums = node.pool.sums;
  const id = node.identifier;
  if (typeof id === "bigint") {
    const high = Number((id >> 32n) & 0xffffffffn);
    const low = Number(id & 0xffffffffn);
    node.checksumTerm16 = sums.sum16 + Math.floor(high / 0x10000) + (high & 0xffff) +
      Math.floor(low / 0x10000) + (low & 0xffff);
    node.checksumTerm32 = sums.sum32 + high + low;
    node.rsplibTerm = 0; // RSPLIB has no 64-bit identifiers
  } else {
    const high = Math.floor(id / 0x10000);
    const low = id & 0xffff;
    node.checksumTerm16 = sums.sum16 + high + low;
    node.checksumTerm32 = sums.sum32 + id;
    node.rsplibTerm = sums.sumLE + swap16(high) + swap16(low);
  }
}

const EMPTY: readonly PoolElementNode[] = Object.freeze([]);

/** What the handlespace keeps per owner (home registrar): its elements and their checksums. */
class OwnerRecord {
  readonly elements = new SlotList<PoolElementNode>(OWNER_SLOT);
  readonly checksums = new OwnerChecksums();
}

/** All pools and pool elements a registrar knows. */
export class Handlespace {
  /** Limits in force. */
  readonly limits: HandlespaceLimits;
  private readonly random: RandomSource;
  private readonly maxIncrement: number;
  private readonly uniqueConnection: boolean;
  private readonly pools: PoolTable;
  private sortedPools: Pool[] | undefined = undefined;
  private readonly expiry = new ExpiryHeap();
  private readonly byOwner = new Map<Identifier, OwnerRecord>();
  /**
   * The owner last looked up, and its record: registrations and removals
   * mostly concern one owner in a row (the registrar itself), and this
   * saves them the map lookup. Cleared when that owner's record goes.
   */
  private lastOwner: Identifier | undefined = undefined;
  private lastOwnerRecord: OwnerRecord | undefined = undefined;
  private readonly byConnection = new Map<ConnectionKey, SlotList<PoolElementNode>>();
  private readonly totalChecksums = new OwnerChecksums();
  /** The checksum variants kept up to date (bits): those read so far. */
  private trackedChecksums = 0;
  private count = 0;

  /**
   * Creates an empty handlespace.
   *
   * @param options limits, randomness, selection and registration rules
   */
  constructor(options: HandlespaceOptions = {}) {
    this.limits = { ...DEFAULT_HANDLESPACE_LIMITS, ...options.limits };
    this.random = options.random ?? systemRandom;
    this.maxIncrement = options.maxIncrement ?? 0;
    this.uniqueConnection = options.uniqueConnection ?? false;
    this.pools = new PoolTable(Math.floor(this.random.next() * 0x100000000));
  }

  /** Number of pool elements. */
  get size(): number {
    return this.count;
  }

  /** Number of pools. */
  get poolCount(): number {
    return this.pools.size;
  }

  /** The pool of a handle. */
  pool(poolHandle: Uint8Array): Pool | undefined {
    return this.pools.get(poolHandle);
  }

  /** All pools, in no particular order. */
  allPools(): IterableIterator<Pool> {
    return this.pools.values();
  }

  /** A pool element. */
  find(poolHandle: Uint8Array, identifier: Identifier): PoolElementNode | undefined {
    return this.pools.get(poolHandle)?.elements.get(identifier);
  }

  /**
   * Registers a pool element (RFC 5352 §3.1): adds it, or updates it when
   * the pool has one with its identifier. Checks everything before changing
   * anything: on a {@link ProtocolError} the handlespace is unchanged. The
   * error carries the cause to answer with: Inconsistent Pooling Policy
   * (0x5), Inconsistent Transport Type (0x7), Inconsistent Data/Control
   * Configuration (0x8), Non-unique PE Identifier (0x4), Lack of Resources
   * (0x6) for limits, Invalid Values (0x3) for values no pool accepts.
   */
  register(
    poolHandle: Uint8Array,
    element: PoolElementParameter,
    context: RegistrationContext,
  ): RegistrationResult {
    const pool = this.pools.get(poolHandle);
    const behaviour = this.check(poolHandle, element, pool);
    const existing = pool?.elements.get(element.identifier);
    const connection = context.connection;
    if (existing !== undefined) {
      if (
        this.uniqueConnection && existing.connection !== undefined && connection !== undefined &&
        existing.connection !== connection
      ) {
        throw new ProtocolError(
          "non-unique-identifier",
          ErrorCauseCode.NonUniquePoolElementIdentifier,
          "identifier registered by another connection",
        );
      }
      if (connection !== undefined && connection !== existing.connection) {
        this.checkConnectionRoom(connection);
      }
      this.update(existing, element, context);
      return { node: existing, added: false };
    }
    const limits = this.limits;
    if (pool === undefined && this.pools.size >= limits.maxPools) {
      throw new ProtocolError("too-many-pools", ErrorCauseCode.LackOfResources, "too many pools");
    }
    if (this.count >= limits.maxElements) {
      throw new ProtocolError(
        "too-many-elements",
        ErrorCauseCode.LackOfResources,
        "handlespace full",
      );
    }
    if (pool !== undefined && pool.size >= limits.maxElementsPerPool) {
      throw new ProtocolError("pool-full", ErrorCauseCode.LackOfResources, "pool full");
    }
    if (connection !== undefined) this.checkConnectionRoom(connection);

    let target = pool;
    if (target === undefined) {
      target = new Pool(poolHandle, behaviour, element.userTransport);
      this.pools.add(target);
      this.sortedPools = undefined;
    }
    const node = new PoolElementNode(target, element, context.now);
    node.homeRegistrarId = context.homeRegistrarId;
    if (context.asapTransport !== undefined) node.asapTransport = context.asapTransport;
    node.connection = connection;
    setChecksumTerms(node);
    target.elements.set(node.identifier, node);
    target.invalidateOrder();
    target.selection.insert(node);
    this.expiry.set(node);
    this.own(node);
    if (connection !== undefined) addToList(this.byConnection, CONNECTION_SLOT, connection, node);
    this.count++;
    return { node, added: true };
  }

  /** Refuses a further element on a connection at its limit. */
  private checkConnectionRoom(connection: ConnectionKey): void {
    if ((this.byConnection.get(connection)?.size ?? 0) >= this.limits.maxElementsPerConnection) {
      throw new ProtocolError(
        "too-many-for-connection",
        ErrorCauseCode.LackOfResources,
        "too many elements registered over this connection",
      );
    }
  }

  /** Validates a registration against the limits and the pool; returns the policy's behaviour. */
  private check(
    poolHandle: Uint8Array,
    element: PoolElementParameter,
    pool: Pool | undefined,
  ): PolicyBehaviour {
    if (poolHandle.length === 0 || poolHandle.length > this.limits.maxPoolHandleLength) {
      throw new ProtocolError(
        "bad-pool-handle",
        ErrorCauseCode.InvalidValues,
        `pool handle of ${poolHandle.length} bytes (1 to ${this.limits.maxPoolHandleLength} allowed)`,
        encodePoolHandleParameter(poolHandle),
      );
    }
    const policy = element.policy;
    // An existing pool of the same policy has its behaviour at hand (no map lookup).
    const behaviour = pool !== undefined && pool.policyName === policy.type
      ? pool.behaviour
      : policy.type === "Unknown"
      ? undefined
      : POLICY_BEHAVIOURS.get(policy.type);
    if (behaviour === undefined) {
      throw new ProtocolError(
        "unsupported-policy",
        ErrorCauseCode.InvalidValues,
        "unknown pool member selection policy",
        encodePolicyParameter(policy),
      );
    }
    if (element.identifier === 0 || element.identifier === 0n) {
      throw new ProtocolError("zero-identifier", ErrorCauseCode.InvalidValues, "PE identifier 0");
    }
    const transport = element.userTransport;
    if (transport.port === 0) {
      throw new ProtocolError(
        "bad-transport",
        ErrorCauseCode.InvalidValues,
        "user transport with port 0",
        encodeTransportParameter(transport),
      );
    }
    if (pool !== undefined) {
      if (pool.policyName !== policy.type) {
        throw new ProtocolError(
          "policy-mismatch",
          ErrorCauseCode.InconsistentPoolingPolicy,
          `pool uses ${pool.policyName}, registration ${policy.type}`,
          encodePolicyParameter(policy),
        );
      }
      if (pool.transportType !== transport.type) {
        throw new ProtocolError(
          "transport-mismatch",
          ErrorCauseCode.InconsistentTransportType,
          `pool uses ${pool.transportType}, registration ${transport.type}`,
          encodeTransportParameter(transport),
        );
      }
      if (pool.controlChannel !== usesControlChannel(transport)) {
        throw new ProtocolError(
          "control-channel-mismatch",
          ErrorCauseCode.InconsistentDataControlConfiguration,
          "Transport Use differs from the pool's",
        );
      }
    }
    return behaviour;
  }

  /** Applies a re-registration to an existing element. */
  private update(
    node: PoolElementNode,
    element: PoolElementParameter,
    context: RegistrationContext,
  ): void {
    const ownerChanged = node.homeRegistrarId !== context.homeRegistrarId;
    if (ownerChanged) this.disown(node);
    node.homeRegistrarId = context.homeRegistrarId;
    node.registrationLife = element.registrationLife;
    node.userTransport = element.userTransport;
    node.asapTransport = context.asapTransport ?? element.asapTransport;
    node.updatedAt = context.now;
    node.expiresAt = context.now + element.registrationLife;
    node.unreachableReports = 0;
    node.marked = false;
    node.setPolicyValues(element.policy);
    node.pool.selection.update(node);
    this.expiry.set(node);
    if (ownerChanged) this.own(node);
    const connection = context.connection;
    if (connection !== undefined && connection !== node.connection) {
      if (node.connection !== undefined) removeFromList(this.byConnection, node.connection, node);
      node.connection = connection;
      addToList(this.byConnection, CONNECTION_SLOT, connection, node);
    } else if (connection === undefined && ownerChanged && node.connection !== undefined) {
      // Moved home to another registrar (a Handle Update naming it): the element's old
      // connection here no longer speaks for it, and its loss does not remove it.
      removeFromList(this.byConnection, node.connection, node);
      node.connection = undefined;
    }
  }

  /**
   * Ties an element to the connection it is reached over from now on (the
   * connection a takeover's Home keep-alive went out on): keep-alives follow
   * it there, and its loss removes the element as for a registration.
   */
  attach(node: PoolElementNode, connection: ConnectionKey): void {
    if (node.connection === connection) return;
    if (node.connection !== undefined) removeFromList(this.byConnection, node.connection, node);
    node.connection = connection;
    addToList(this.byConnection, CONNECTION_SLOT, connection, node);
  }

  /** The record of an owner, if it has elements. */
  private ownerRecord(owner: Identifier): OwnerRecord | undefined {
    if (this.lastOwnerRecord !== undefined && this.lastOwner === owner) return this.lastOwnerRecord;
    const record = this.byOwner.get(owner);
    if (record !== undefined) {
      this.lastOwner = owner;
      this.lastOwnerRecord = record;
    }
    return record;
  }

  /** Records an element under its owner, with the checksums. */
  private own(node: PoolElementNode): void {
    const owner = node.homeRegistrarId;
    let record = this.ownerRecord(owner);
    if (record === undefined) {
      record = new OwnerRecord();
      this.byOwner.set(owner, record);
      this.lastOwner = owner;
      this.lastOwnerRecord = record;
    }
    record.elements.add(node);
    record.checksums.add(node, this.trackedChecksums);
    this.totalChecksums.add(node, this.trackedChecksums);
  }

  /** Removes an element from its owner's records and checksums. */
  private disown(node: PoolElementNode): void {
    const owner = node.homeRegistrarId;
    const record = this.ownerRecord(owner)!;
    record.elements.remove(node);
    record.checksums.subtract(node, this.trackedChecksums);
    if (record.elements.size === 0) {
      this.byOwner.delete(owner);
      this.lastOwner = undefined;
      this.lastOwnerRecord = undefined;
    }
    this.totalChecksums.subtract(node, this.trackedChecksums);
  }

  /** Removes a pool element; an emptied pool ceases to exist (RFC 5351 §2). */
  remove(node: PoolElementNode): void {
    const pool = node.pool;
    if (!pool.elements.deleteValue(node.identifier, node)) return;
    pool.invalidateOrder();
    pool.selection.remove(node);
    this.expiry.delete(node);
    this.disown(node);
    if (node.connection !== undefined) removeFromList(this.byConnection, node.connection, node);
    this.count--;
    if (pool.size === 0) {
      this.pools.delete(pool);
      this.sortedPools = undefined;
    }
  }

  /** Deregisters a pool element (RFC 5352 §3.2); returns it, or undefined if unknown. */
  deregister(poolHandle: Uint8Array, identifier: Identifier): PoolElementNode | undefined {
    const node = this.find(poolHandle, identifier);
    if (node !== undefined) this.remove(node);
    return node;
  }

  /**
   * Handle resolution (RFC 5352 §3.3): up to `count` distinct elements of
   * the pool, chosen by its policy. Empty when the pool does not exist.
   */
  resolve(
    poolHandle: Uint8Array,
    count: number,
    maxIncrement: number = this.maxIncrement,
  ): PoolElementNode[] {
    const pool = this.pools.get(poolHandle);
    if (pool === undefined || count < 1) return [];
    const out: PoolElementNode[] = [];
    pool.selection.select(count, maxIncrement, this.random, out);
    return out;
  }

  /** When the next registration life ends, if any element is registered. */
  nextExpiry(): number | undefined {
    return this.expiry.peek()?.expiresAt;
  }

  /** Removes and returns every element whose registration life has ended at `now`. */
  expire(now: number): PoolElementNode[] {
    const expired: PoolElementNode[] = [];
    for (
      let e = this.expiry.peek();
      e !== undefined && e.expiresAt <= now;
      e = this.expiry.peek()
    ) {
      this.remove(e);
      expired.push(e);
    }
    return expired;
  }

  /** The elements a registrar owns. */
  ownedBy(owner: Identifier): Iterable<PoolElementNode> {
    return this.byOwner.get(owner)?.elements.values() ?? EMPTY;
  }

  /** How many elements a registrar owns. */
  ownedCount(owner: Identifier): number {
    return this.byOwner.get(owner)?.elements.size ?? 0;
  }

  /** The registrars that own elements. */
  owners(): IterableIterator<Identifier> {
    return this.byOwner.keys();
  }

  /** The elements registered over a connection. */
  registeredOver(connection: ConnectionKey): Iterable<PoolElementNode> {
    return this.byConnection.get(connection)?.values() ?? EMPTY;
  }

  /**
   * The checksum over the elements one registrar owns (RFC 5353 §3.8), or
   * over the whole handlespace when `owner` is undefined. An owner without
   * elements has 0xffff (0xffffffff).
   */
  checksum(owner?: Identifier, variant: ChecksumVariant = "internet16"): number {
    const bit = variantBit(variant);
    if ((this.trackedChecksums & bit) === 0) this.trackChecksum(bit);
    if (owner === undefined) return this.totalChecksums.value(variant);
    const record = this.byOwner.get(owner);
    if (record !== undefined) return record.checksums.value(variant);
    return variant === "internet32" ? 0xffffffff : 0xffff;
  }

  /** Starts keeping a checksum variant up to date: computes it once over everything. */
  private trackChecksum(bit: number): void {
    for (const record of this.byOwner.values()) {
      record.checksums.track(bit, record.elements.values());
    }
    this.totalChecksums.track(bit, this.allElements());
    this.trackedChecksums |= bit;
  }

  /** Every element. */
  private *allElements(): IterableIterator<PoolElementNode> {
    for (const record of this.byOwner.values()) yield* record.elements.values();
  }

  /**
   * Moves every element of one owner to another (takeover, RFC 5353
   * §3.7); returns the elements moved.
   */
  changeOwner(from: Identifier, to: Identifier): PoolElementNode[] {
    const nodes = [...this.ownedBy(from)];
    for (const node of nodes) {
      this.disown(node);
      node.homeRegistrarId = to;
      this.own(node);
    }
    return nodes;
  }

  /** Marks every element an owner has (before a resynchronisation, RFC 5353 §3.8). */
  mark(owner: Identifier): void {
    for (const node of this.ownedBy(owner)) node.marked = true;
  }

  /** Removes and returns the owner's elements still marked (after the resynchronisation). */
  sweep(owner: Identifier): PoolElementNode[] {
    const stale = [...this.ownedBy(owner)].filter((n) => n.marked);
    for (const node of stale) this.remove(node);
    return stale;
  }

  /** The pools in handle order (cached until pools come or go). */
  private orderedPools(): Pool[] {
    if (this.sortedPools === undefined) {
      this.sortedPools = [...this.pools.values()].sort((a, b) =>
        a.key < b.key ? -1 : a.key > b.key ? 1 : 0
      );
    }
    return this.sortedPools;
  }

  /**
   * One page of at most `max` elements in (pool handle, identifier) order,
   * after `cursor` (from the start when undefined), only of `owner` when
   * given. An element present during the whole paging appears exactly once.
   */
  page(cursor: PageCursor | undefined, max: number, owner?: Identifier): HandleTablePage {
    if (!(max >= 1)) throw new RangeError("a page holds at least one element");
    const pools = this.orderedPools();
    let p = 0;
    if (cursor !== undefined) {
      let lo = 0;
      let hi = pools.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (pools[mid].key < cursor.poolKey) lo = mid + 1;
        else hi = mid;
      }
      p = lo;
    }
    const out: { pool: Pool; elements: PoolElementNode[] }[] = [];
    let taken = 0;
    let last: PoolElementNode | undefined;
    for (; p < pools.length; p++) {
      const pool = pools[p];
      const ids = pool.identifiers();
      let i = 0;
      if (cursor !== undefined && pool.key === cursor.poolKey) {
        let lo = 0;
        let hi = ids.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (compareIdentifiers(ids[mid], cursor.identifier) <= 0) lo = mid + 1;
          else hi = mid;
        }
        i = lo;
      }
      let group: PoolElementNode[] | undefined;
      for (; i < ids.length; i++) {
        const node = pool.elements.get(ids[i])!;
        if (owner !== undefined && node.homeRegistrarId !== owner) continue;
        if (taken === max) {
          return { pools: out, next: { poolKey: last!.pool.key, identifier: last!.identifier } };
        }
        if (group === undefined) {
          group = [];
          out.push({ pool, elements: group });
        }
        group.push(node);
        taken++;
        last = node;
      }
    }
    return { pools: out, next: undefined };
  }

  /** The names of the policies in use, for statistics. */
  policies(): Map<PolicyName, number> {
    const counts = new Map<PolicyName, number>();
    for (const pool of this.pools.values()) {
      counts.set(pool.policyName, (counts.get(pool.policyName) ?? 0) + 1);
    }
    return counts;
  }
}
