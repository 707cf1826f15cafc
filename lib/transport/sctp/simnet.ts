/**
 * A deterministic network for SCTP endpoints in virtual time, with seeded
 * loss, duplication, reordering and delay: what the SCTP tests and the
 * throughput benchmark run associations over.
 *
 * @module
 */

import { SeededRandom } from "../../policy/random.ts";
import type { Association, AssociationEvent } from "./association.ts";
import { type DatagramAddress, SctpEndpoint, type SctpEndpointOptions } from "./endpoint.ts";

/** How the simulated network misbehaves. */
export interface SimNetOptions {
  /** One-way delay range (ms). */
  readonly delay?: readonly [number, number];
  /** Probability a datagram is lost. */
  readonly loss?: number;
  /** Probability a datagram is delivered twice. */
  readonly duplicate?: number;
  /** Whether the delay of each datagram is drawn anew (reordering). */
  readonly reorder?: boolean;
  /** Decides per datagram whether it is delivered (after `loss`): targeted losses in tests. */
  readonly deliver?: (datagram: { from: string; to: string; bytes: Uint8Array }) => boolean;
}

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly to: string;
  readonly from: DatagramAddress;
  readonly bytes: Uint8Array;
}

/** A node: an endpoint at an address, with everything its associations reported. */
export interface SimHost {
  /** The address. */
  readonly address: string;
  /** The endpoint. */
  readonly endpoint: SctpEndpoint;
  /** Every event, in order. */
  readonly events: { association: Association; event: AssociationEvent | { kind: "accepted" } }[];
  /** Associations accepted. */
  readonly accepted: Association[];
}

/** Endpoints on a simulated network. */
export class SimNet {
  /** Virtual time (ms). */
  now = 0;
  /** Datagrams sent, lost, duplicated. */
  readonly counters = { sent: 0, lost: 0, duplicated: 0, delivered: 0 };
  private readonly rng: SeededRandom;
  private readonly hosts = new Map<string, SimHost>();
  private queue: InFlight[] = [];
  private seq = 0;
  /** Hosts that receive nothing (a partition or a crash). */
  readonly down: Set<string> = new Set();

  /**
   * Creates an empty network at time 0.
   *
   * @param seed seed of every random choice
   * @param options the network's behaviour
   */
  constructor(seed: number, readonly options: SimNetOptions = {}) {
    this.rng = new SeededRandom(seed);
  }

  /** Adds an endpoint at an address (UDP port 9899). */
  host(address: string, options: SctpEndpointOptions = {}): SimHost {
    const random = new SeededRandom(this.rng.nextUint32());
    const host: SimHost = {
      address,
      endpoint: new SctpEndpoint({ random: () => random.nextUint32(), ...options }),
      events: [],
      accepted: [],
    };
    this.hosts.set(address, host);
    return host;
  }

  /** Moves every host's output into the network and records events. */
  pump(): void {
    for (const host of this.hosts.values()) {
      for (const e of host.endpoint.drainEvents()) {
        if (e.kind === "accepted") {
          host.accepted.push(e.association);
          host.events.push({ association: e.association, event: { kind: "accepted" } });
        } else {
          host.events.push({ association: e.association, event: e.event });
        }
      }
      for (const d of host.endpoint.drainDatagrams()) {
        this.transmit(host.address, d.to.address, d.bytes);
      }
    }
  }

  /** Puts a datagram on the simulated wire: loss, duplication, delay. */
  private transmit(from: string, to: string, bytes: Uint8Array): void {
    this.counters.sent++;
    const o = this.options;
    if (this.rng.next() < (o.loss ?? 0) || o.deliver?.({ from, to, bytes }) === false) {
      this.counters.lost++;
      return;
    }
    const copies = this.rng.next() < (o.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.counters.duplicated++;
    const [lo, hi] = o.delay ?? [1, 1];
    for (let i = 0; i < copies; i++) {
      const delay = o.reorder === false || (o.reorder === undefined && i === 0)
        ? lo + (hi - lo) / 2
        : lo + this.rng.next() * (hi - lo);
      this.enqueue({
        at: this.now + delay,
        seq: this.seq++,
        to,
        from: { address: from, port: 9899 },
        bytes,
      });
    }
  }

  /** Inserts a datagram in delivery order (time, then sending order). */
  private enqueue(d: InFlight): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid];
      if (q.at < d.at || (q.at === d.at && q.seq < d.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, d);
  }

  /** Runs until `until` (virtual ms), delivering datagrams and firing timers. */
  run(until: number): void {
    this.pump();
    for (;;) {
      let next = this.queue[0]?.at;
      for (const h of this.hosts.values()) {
        if (this.down.has(h.address)) continue;
        const d = h.endpoint.nextDeadline();
        if (d !== undefined && (next === undefined || d < next)) next = d;
      }
      if (next === undefined || next > until) break;
      this.now = Math.max(this.now, next);
      while (this.queue.length > 0 && this.queue[0].at <= this.now) {
        const d = this.queue.shift()!;
        const host = this.hosts.get(d.to);
        if (host === undefined || this.down.has(d.to)) continue;
        this.counters.delivered++;
        host.endpoint.receive(d.bytes, d.from, this.now);
      }
      for (const h of this.hosts.values()) {
        if (!this.down.has(h.address)) h.endpoint.advanceTime(this.now);
      }
      this.pump();
    }
    this.now = Math.max(this.now, until);
  }

  /** Runs until a condition holds (or fails after `limit` virtual ms). */
  runUntil(what: () => boolean, limit = 600_000, step = 10): boolean {
    const end = this.now + limit;
    while (!what()) {
      if (this.now >= end) return false;
      this.run(this.now + step);
    }
    return true;
  }
}
