/**
 * The candidates of an ENRP server hunt (RFC 5352 §3.6): registrars from
 * static configuration and from ASAP Server Announces, the latter
 * forgotten after T7-ENRPoutdate without a new announce.
 *
 * @module
 */

import type { Identifier, TransportParameter } from "../protocol/types.ts";
import type { RemoteEndpoint } from "./actions.ts";

/** A registrar to try. */
export interface RegistrarCandidate {
  /** Its ASAP endpoint. */
  readonly transport: TransportParameter;
  /** Its identifier, when learnt from an announce. */
  readonly registrarId?: Identifier;
  /** When an announced candidate is forgotten (undefined: static). */
  readonly expiresAt?: number;
}

function transportKey(t: TransportParameter): string {
  return `${t.type}/${t.port}/${t.addresses.join(",")}`;
}

/** The candidate list of a pool element or pool user. */
export class RegistrarCandidates {
  private readonly statics: RegistrarCandidate[];
  private readonly announced = new Map<string, RegistrarCandidate>();
  private cursor = 0;

  /**
   * Creates the list.
   *
   * @param statics statically configured registrars, tried first and never forgotten
   * @param outdate T7-ENRPoutdate: how long an announced registrar stays a candidate (ms)
   * @param fallbackType transport to assume for announces without transport parameters
   */
  constructor(
    statics: readonly TransportParameter[],
    private readonly outdate: number,
    private readonly fallbackType: "SCTP" | "TCP",
  ) {
    this.statics = statics.map((transport) => ({ transport }));
  }

  /**
   * Records an ASAP Server Announce. Without transport parameters the
   * announce's source address and port stand for the registrar (as RSPLIB
   * does).
   */
  announce(
    registrarId: Identifier,
    transports: readonly TransportParameter[],
    source: RemoteEndpoint,
    now: number,
  ): void {
    const usable = transports.filter((t) => t.type === "SCTP" || t.type === "TCP");
    const list = usable.length > 0 ? usable : [{
      type: this.fallbackType,
      port: source.port,
      transportUse: 0,
      addresses: [source.address],
    } as TransportParameter];
    for (const transport of list) {
      this.announced.set(transportKey(transport), {
        transport,
        registrarId,
        expiresAt: now + this.outdate,
      });
    }
  }

  /** The current candidates: static ones first, then announced ones not yet outdated. */
  list(now: number): RegistrarCandidate[] {
    for (const [key, c] of this.announced) {
      if (c.expiresAt! <= now) this.announced.delete(key);
    }
    const staticKeys = new Set(this.statics.map((c) => transportKey(c.transport)));
    return [
      ...this.statics,
      ...[...this.announced.values()].filter((c) => !staticKeys.has(transportKey(c.transport))),
    ];
  }

  /** The next candidate to try, cycling through the list; undefined when there is none. */
  next(now: number): RegistrarCandidate | undefined {
    const list = this.list(now);
    if (list.length === 0) return undefined;
    const candidate = list[this.cursor % list.length];
    this.cursor = (this.cursor + 1) % list.length;
    return candidate;
  }
}
