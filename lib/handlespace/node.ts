/**
 * A pool element as the handlespace stores it: what the protocols carry
 * (RFC 5354 §3.10) plus the registrar-local state the protocols need.
 *
 * @module
 */

import { PolicyEntry } from "../policy/entry.ts";
import type {
  Identifier,
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  TransportParameter,
} from "../protocol/types.ts";
import type { Pool } from "./pool.ts";

/**
 * Identifies the connection (SCTP association, TCP connection) a pool
 * element registered over; any value usable as a `Map` key.
 */
export type ConnectionKey = string | number | bigint | object;

/** A pool element in the handlespace. */
export class PoolElementNode extends PolicyEntry {
  /** The pool it belongs to. */
  readonly pool: Pool;
  /** Its home registrar (owner): only the owner announces its changes. */
  homeRegistrarId: Identifier;
  /** Registration life in milliseconds. */
  registrationLife: number;
  /** How pool users reach it. */
  userTransport: TransportParameter;
  /** Its ASAP endpoint, as registrars distribute it. */
  asapTransport: TransportParameter | undefined;

  /** Registrar-local: the connection it registered over (undefined if learnt via ENRP). */
  connection: ConnectionKey | undefined;
  /** Registrar-local: when it was first registered (ms). */
  registeredAt: number;
  /** Registrar-local: when it was last registered or updated (ms). */
  updatedAt: number;
  /** Registrar-local: when its registration life ends (ms). */
  expiresAt: number;
  /** Registrar-local: when it last answered an endpoint keep-alive (ms). */
  lastKeepAlive: number | undefined = undefined;
  /** Registrar-local: when the unanswered keep-alive went out (round-trip samples). */
  keepAliveSentAt: number | undefined = undefined;
  /** Registrar-local: Endpoint Unreachable reports since its last registration. */
  unreachableReports: number = 0;
  /** Registrar-local: marked during a handle-table resynchronisation (RFC 5353 §3.8). */
  marked = false;

  /** Position in the expiry heap. */
  expiryIndex: number = -1;
  /** Positions in the owner's and the connection's lists. */
  readonly slots: number[] = [-1, -1];
  /** Its term of the Internet-16 checksum. */
  checksumTerm16 = 0;
  /** Its term of the Internet-32 checksum. */
  checksumTerm32 = 0;
  /** Its term of RSPLIB's checksum arithmetic (32-bit identifiers only). */
  rsplibTerm = 0;

  /**
   * Creates a node (the handlespace does this).
   *
   * @param pool its pool
   * @param element the pool element as registered or announced
   * @param now the current time (ms)
   */
  constructor(pool: Pool, element: PoolElementParameter, now: number) {
    super(element.identifier, element.policy);
    this.pool = pool;
    this.homeRegistrarId = element.homeRegistrarId;
    this.registrationLife = element.registrationLife;
    this.userTransport = element.userTransport;
    this.asapTransport = element.asapTransport;
    this.registeredAt = now;
    this.updatedAt = now;
    this.expiresAt = now + element.registrationLife;
  }

  /** The pool's handle. */
  get poolHandle(): Uint8Array {
    return this.pool.handle;
  }

  /** The policy as registered. */
  get poolPolicy(): PoolMemberSelectionPolicy {
    return this.policy;
  }

  /** The element as a Pool Element parameter (with ASAP Transport when known). */
  toPoolElement(): PoolElementParameter {
    const element: PoolElementParameter = {
      identifier: this.identifier,
      homeRegistrarId: this.homeRegistrarId,
      registrationLife: this.registrationLife,
      userTransport: this.userTransport,
      policy: this.policy,
    };
    return this.asapTransport === undefined
      ? element
      : { ...element, asapTransport: this.asapTransport };
  }
}
