/**
 * A pool: its handle, the policy and transport its first element fixed, its
 * elements by identifier, and their selection state.
 *
 * @module
 */

import type { PolicyBehaviour } from "../policy/policies.ts";
import { createSelection, type Selection } from "../policy/selection.ts";
import { TransportUse } from "../protocol/constants.ts";
import type { Identifier, PolicyName, TransportParameter } from "../protocol/types.ts";
import { copyBytes } from "../wire/pool.ts";
import { TombstoneMap } from "./index.ts";
import type { PoolElementNode } from "./node.ts";

/** The map key of a pool handle: its bytes as a Latin-1 string (orders like the bytes). */
export function poolKey(handle: Uint8Array): string {
  let key = "";
  for (let i = 0; i < handle.length; i++) key += String.fromCharCode(handle[i]);
  return key;
}

/** Compares identifiers of one profile (numbers or bigints). */
export function compareIdentifiers(a: Identifier, b: Identifier): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sums over the pool handle's words, shared by the checksum terms of its elements. */
export interface HandleSums {
  /** Big-endian 16-bit words (Internet-16). */
  readonly sum16: number;
  /** Big-endian 32-bit words (Internet-32). */
  readonly sum32: number;
  /** Little-endian 16-bit words (RSPLIB on x86). */
  readonly sumLE: number;
}

function handleSums(h: Uint8Array): HandleSums {
  let sum16 = 0;
  let sumLE = 0;
  let sum32 = 0;
  for (let i = 0; i < h.length; i += 2) {
    const a = h[i];
    const b = i + 1 < h.length ? h[i + 1] : 0;
    sum16 += (a << 8) | b;
    sumLE += a | (b << 8);
  }
  for (let i = 0; i < h.length; i += 4) {
    sum32 += (h[i] ?? 0) * 0x1000000 +
      (((h[i + 1] ?? 0) << 16) | ((h[i + 2] ?? 0) << 8) | (h[i + 3] ?? 0));
  }
  return { sum16, sum32, sumLE };
}

/** One pool of the handlespace. */
export class Pool {
  /** The pool handle (a copy; a view of a shared slab, see lib/wire/pool.ts). */
  readonly handle: Uint8Array;
  private keyText: string | undefined = undefined;
  /** The behaviour of its policy. */
  readonly behaviour: PolicyBehaviour;
  /** The policy every element must use (that of the first element). */
  readonly policyName: PolicyName;
  /** The user transport protocol every element must use. */
  readonly transportType: TransportParameter["type"];
  /** Whether elements multiplex ASAP control messages with data (Transport Use). */
  readonly controlChannel: boolean;
  /** The elements by identifier. */
  readonly elements: TombstoneMap<Identifier, PoolElementNode> = new TombstoneMap();
  /** Their selection state. */
  readonly selection: Selection;
  /** Word sums of the handle for the checksum terms. */
  readonly sums: HandleSums;
  /** Its hash in the pool table that holds it (set by the table). */
  tableHash: number = -1;
  private sortedIds: Identifier[] | undefined = undefined;

  /**
   * Creates an empty pool whose policy and transport the first element fixes.
   *
   * @param handle the pool handle (copied)
   * @param behaviour the policy
   * @param transport the first element's user transport
   */
  constructor(
    handle: Uint8Array,
    behaviour: PolicyBehaviour,
    transport: TransportParameter,
  ) {
    // A copy in the shared slab: an own ArrayBuffer per pool costs more than the rest of it.
    this.handle = copyBytes(handle, 0, handle.length);
    this.behaviour = behaviour;
    this.policyName = behaviour.name;
    this.transportType = transport.type;
    this.controlChannel = usesControlChannel(transport);
    this.selection = createSelection(behaviour);
    this.sums = handleSums(handle);
  }

  /**
   * Its key ({@link poolKey}): the handle as a string, for ordering pools.
   * Built on first use: most pools are never ordered, and building the
   * string costs as much as the rest of creating a pool.
   */
  get key(): string {
    return this.keyText ??= poolKey(this.handle);
  }

  /** Number of elements. */
  get size(): number {
    return this.elements.size;
  }

  /** The elements' identifiers in ascending order (cached until the pool changes). */
  identifiers(): readonly Identifier[] {
    if (this.sortedIds === undefined) {
      this.sortedIds = [...this.elements.keys()].sort(compareIdentifiers);
    }
    return this.sortedIds;
  }

  /** Forgets the cached order after an element was added or removed. */
  invalidateOrder(): void {
    this.sortedIds = undefined;
  }
}

/** Whether a transport carries ASAP control messages (Transport Use = data plus control). */
export function usesControlChannel(transport: TransportParameter): boolean {
  return (transport.type === "SCTP" || transport.type === "TCP") &&
    transport.transportUse === TransportUse.DataPlusControl;
}
