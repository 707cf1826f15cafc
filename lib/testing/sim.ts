/**
 * A deterministic simulator: any number of registrars, pool elements and
 * pool users on a simulated network, in virtual time, with seeded delay,
 * loss, partitions, crashes and restarts. Messages travel as bytes (encoded
 * and decoded by the codecs), so the wire format is exercised too.
 *
 * Connections behave like SCTP associations: reliable and ordered; a lost
 * packet costs a retransmission delay, never reordering. A partition or a
 * silent crash is noticed by both ends after the failure-detection delay;
 * a process crash aborts its connections at once. Multicast (Server
 * Announces, Presences) is unreliable and unordered.
 *
 * @module
 */

import { decodeAsap, decodeEnrp, encodeMessage } from "../protocol/codec.ts";
import type { TransportParameter, WireProfile } from "../protocol/types.ts";
import { SeededRandom } from "../policy/random.ts";
import type {
  Action,
  ConnectionId,
  MulticastChannel,
  ProtocolName,
  RemoteEndpoint,
} from "../role/actions.ts";
import type { Role } from "../role/role.ts";
import { Registrar } from "../registrar/registrar.ts";
import type { RegistrarEvent, RegistrarOptions } from "../registrar/options.ts";
import { PoolElement, type PoolElementEvent, type PoolElementOptions } from "../element/element.ts";
import { PoolUser, type PoolUserEvent, type PoolUserOptions } from "../user/user.ts";

/** What the simulator needs of a role: the {@link Role} interface. */
export type SimRole = Role;

/** Network behaviour. */
export interface NetworkOptions {
  /** One-way delay range in ms (default 1–5). */
  readonly latency?: readonly [number, number];
  /** Probability a packet on a connection is lost once and retransmitted (default 0). */
  readonly loss?: number;
  /** Extra delay of a retransmission (default 200 ms). */
  readonly retransmissionDelay?: number;
  /** Probability a multicast datagram is lost for one receiver (default 0). */
  readonly multicastLoss?: number;
  /** Time until both ends notice a broken connection (default 3000 ms). */
  readonly failureDetection?: number;
}

/** A simulated host with one role. */
export interface SimNode {
  /** Its name. */
  readonly name: string;
  /** Its address. */
  readonly address: string;
  /** What it runs. */
  readonly kind: "registrar" | "element" | "user";
  /** The role (replaced on restart). */
  role: SimRole;
  /** Down after a crash until restarted. */
  crashed: boolean;
  /** Events the role emitted, in order (most recent last; capped). */
  readonly events: unknown[];
  /** Multicast channels it listens to. */
  readonly channels: Set<MulticastChannel>;
  /** Ports it accepts connections on, with the protocol each carries. */
  readonly listening: Map<number, ProtocolName>;
  /** Wire profile. */
  readonly profile: WireProfile;
  /** Creates a fresh role (for restarts). */
  readonly create: () => SimRole;
  /** Local port of outgoing ASAP connections (SCTP-like: the ASAP socket's port). */
  readonly asapPort: number;
}

interface End {
  readonly node: SimNode;
  readonly id: ConnectionId;
  /** When the last message toward this end is delivered (keeps order). */
  lastDelivery: number;
  /** Remote endpoint as this end sees it. */
  readonly remote: RemoteEndpoint;
}

interface SimConnection {
  readonly serial: number;
  readonly protocol: ProtocolName;
  readonly a: End;
  readonly b: End;
  open: boolean;
  established: boolean;
}

type QueuedEvent =
  | { readonly kind: "wake"; readonly node: SimNode }
  | {
    readonly kind: "deliver";
    readonly to: End;
    readonly connection: SimConnection;
    readonly bytes: Uint8Array;
  }
  | { readonly kind: "established"; readonly connection: SimConnection }
  | { readonly kind: "down"; readonly end: End; readonly connection: SimConnection }
  | {
    readonly kind: "multicast";
    readonly to: SimNode;
    readonly channel: MulticastChannel;
    readonly bytes: Uint8Array;
    readonly source: RemoteEndpoint;
    readonly profile: WireProfile;
  }
  | { readonly kind: "call"; readonly fn: () => void };

interface Scheduled {
  readonly time: number;
  readonly seq: number;
  readonly event: QueuedEvent;
}

/** Ports the simulated hosts use. */
export const SIM_PORTS = { asap: 3863, enrp: 9901, service: 7000 } as const;

/** The simulation. */
export class Simulation {
  /** Virtual time in ms. */
  now = 0;
  /** The simulation's random source (seeded). */
  readonly random: SeededRandom;
  /** All hosts by name. */
  readonly nodes: Map<string, SimNode> = new Map();
  /** Messages delivered over connections (of them ENRP), and multicast datagrams delivered. */
  readonly stats: {
    messages: number;
    enrpMessages: number;
    multicast: number;
    events: number;
    connections: number;
  } = {
    messages: 0,
    enrpMessages: 0,
    multicast: 0,
    events: 0,
    connections: 0,
  };
  private readonly net: Required<NetworkOptions>;
  private readonly queue: Scheduled[] = [];
  private seq = 0;
  private serial = 0;
  private readonly byAddress = new Map<string, SimNode>();
  private readonly ends = new Map<
    SimNode,
    Map<ConnectionId, { connection: SimConnection; end: End }>
  >();
  private readonly blocked = new Set<string>();
  /** Extra one-way delay between two hosts, by "a|b" (both orders). */
  private readonly linkDelays = new Map<string, number>();
  private readonly scheduledWake = new Map<SimNode, number>();
  private nextHost = 1;
  private nextAccepted = 0;
  private readonly seed: number;
  /** Called after every event; throw to fail a test. */
  check: (() => void) | undefined = undefined;

  /**
   * Creates an empty network.
   *
   * @param seed seed of everything random in the simulation
   * @param network delays and losses
   */
  constructor(seed: number, network: NetworkOptions = {}) {
    this.seed = seed;
    this.random = new SeededRandom(seed);
    this.net = {
      latency: network.latency ?? [1, 5],
      loss: network.loss ?? 0,
      retransmissionDelay: network.retransmissionDelay ?? 200,
      multicastLoss: network.multicastLoss ?? 0,
      failureDetection: network.failureDetection ?? 3000,
    };
  }

  /** The next free host address (10.x.y.z). */
  private allocateAddress(): string {
    const n = this.nextHost++;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  }

  /** A role's own seeded random source, derived from the simulation seed and the host. */
  randomFor(name: string): SeededRandom {
    let h = this.seed >>> 0;
    for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    return new SeededRandom(h);
  }

  /** Creates a host with its role, listening ports and multicast channels. */
  private addNode(
    name: string,
    kind: SimNode["kind"],
    profile: WireProfile,
    create: (address: string) => SimRole,
    listening: [number, ProtocolName][],
    channels: MulticastChannel[],
  ): SimNode {
    if (this.nodes.has(name)) throw new Error(`host ${name} exists`);
    const address = this.allocateAddress();
    const asapPort = 20000 + this.nextHost;
    // SCTP-like: an element's ASAP socket accepts registrars (Home-flag keep-alives).
    if (kind === "element") listening.push([asapPort, "asap"]);
    const node: SimNode = {
      name,
      address,
      kind,
      role: undefined as unknown as SimRole,
      crashed: false,
      events: [],
      channels: new Set(channels),
      listening: new Map(listening),
      profile,
      create: () => create(address),
      asapPort,
    };
    node.role = node.create();
    this.nodes.set(name, node);
    this.byAddress.set(address, node);
    this.ends.set(node, new Map());
    return node;
  }

  /** Transport of a host's port ("SCTP", as RSerPool uses). */
  static transport(address: string, port: number): TransportParameter {
    return { type: "SCTP", port, transportUse: 0, addresses: [address] };
  }

  /** Adds a registrar; `peers` names other registrars (added before) to configure statically. */
  addRegistrar(
    name: string,
    options: Partial<RegistrarOptions> & { readonly peerNames?: readonly string[] } = {},
  ): SimNode {
    const profile = options.profile ?? "rfc";
    const peers = (options.peerNames ?? []).map((p) => {
      const peer = this.nodes.get(p);
      if (peer === undefined) throw new Error(`no registrar ${p}`);
      return Simulation.transport(peer.address, SIM_PORTS.enrp);
    });
    const node = this.addNode(
      name,
      "registrar",
      profile,
      (address) =>
        new Registrar({
          random: this.randomFor(name),
          asapTransports: [Simulation.transport(address, SIM_PORTS.asap)],
          ...options,
          enrpTransport: Simulation.transport(address, SIM_PORTS.enrp),
          peers: [...(options.peers ?? []), ...peers],
        }),
      [[SIM_PORTS.asap, "asap"], [SIM_PORTS.enrp, "enrp"]],
      options.multicastPresence ? ["enrp-presence"] : [],
    );
    this.start(node);
    return node;
  }

  /** The ASAP endpoints of named registrars. */
  registrarTransports(...names: string[]): TransportParameter[] {
    return names.map((n) => Simulation.transport(this.nodes.get(n)!.address, SIM_PORTS.asap));
  }

  /** Adds a pool element serving on this host's service port. */
  addElement(
    name: string,
    options: Omit<PoolElementOptions, "userTransport"> & {
      readonly userTransport?: TransportParameter;
    },
  ): SimNode {
    const node = this.addNode(
      name,
      "element",
      options.profile ?? "rfc",
      (address) =>
        new PoolElement({
          random: this.randomFor(name),
          userTransport: {
            type: "SCTP",
            port: SIM_PORTS.service,
            transportUse: 1,
            addresses: [address],
          },
          ...options,
        }),
      [[SIM_PORTS.service, "session"]],
      ["asap-announce"],
    );
    this.start(node);
    return node;
  }

  /** Adds a pool user. */
  addUser(name: string, options: PoolUserOptions = {}): SimNode {
    const node = this.addNode(
      name,
      "user",
      "rfc",
      () => new PoolUser({ random: this.randomFor(name), ...options }),
      [],
      ["asap-announce"],
    );
    this.start(node);
    return node;
  }

  /** Starts a host's role and carries out its first actions. */
  private start(node: SimNode): void {
    (node.role as unknown as { start(now: number): void }).start(this.now);
    this.flush(node);
  }

  /** The role of a host, typed. */
  registrar(name: string): Registrar {
    return this.nodes.get(name)!.role as unknown as Registrar;
  }

  /** The role of a host, typed. */
  element(name: string): PoolElement {
    return this.nodes.get(name)!.role as unknown as PoolElement;
  }

  /** The role of a host, typed. */
  user(name: string): PoolUser {
    return this.nodes.get(name)!.role as unknown as PoolUser;
  }

  /** Runs `fn` on a host's role now and carries out what it asks. */
  act(name: string, fn: (role: never) => void): void {
    const node = this.nodes.get(name)!;
    if (node.crashed) return;
    fn(node.role as never);
    this.flush(node);
  }

  /** Runs `fn` at virtual time `time`. */
  at(time: number, fn: () => void): void {
    this.push(time, { kind: "call", fn });
  }

  /** Queues an event at a virtual time. */
  private push(time: number, event: QueuedEvent): void {
    const item: Scheduled = { time, seq: this.seq++, event };
    const q = this.queue;
    let i = q.length;
    q.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = q[parent];
      if (p.time < time || (p.time === time && p.seq < item.seq)) break;
      q[i] = p;
      i = parent;
    }
    q[i] = item;
  }

  /** Takes the earliest queued event. */
  private pop(): Scheduled | undefined {
    const q = this.queue;
    if (q.length === 0) return undefined;
    const top = q[0];
    const last = q.pop()!;
    if (q.length > 0) {
      let i = 0;
      const n = q.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c =
          r < n && (q[r].time < q[l].time || (q[r].time === q[l].time && q[r].seq < q[l].seq))
            ? r
            : l;
        if (q[c].time > last.time || (q[c].time === last.time && q[c].seq > last.seq)) break;
        q[i] = q[c];
        i = c;
      }
      q[i] = last;
    }
    return top;
  }

  /** A one-way delay drawn from the latency range, plus the link's own delay between two hosts. */
  private delay(from?: SimNode, to?: SimNode): number {
    const [min, max] = this.net.latency;
    const extra = from === undefined || to === undefined
      ? 0
      : this.linkDelays.get(`${from.name}|${to.name}`) ?? 0;
    return min + this.random.next() * (max - min) + extra;
  }

  /**
   * Adds a fixed one-way delay (ms) between two hosts, both ways, on top of
   * the latency range: a distant element or registrar.
   */
  setLinkDelay(a: string, b: string, ms: number): void {
    this.linkDelays.set(`${a}|${b}`, ms);
    this.linkDelays.set(`${b}|${a}`, ms);
  }

  /** Whether a partition separates two hosts. */
  private linkBlocked(a: SimNode, b: SimNode): boolean {
    return this.blocked.has(`${a.name}|${b.name}`);
  }

  /** Carries out the role's actions and re-arms its wake-up. */
  private flush(node: SimNode): void {
    if (node.crashed) return;
    for (const action of node.role.drainActions()) this.perform(node, action);
    const deadline = node.role.nextDeadline();
    if (deadline !== undefined) {
      const scheduled = this.scheduledWake.get(node);
      if (scheduled === undefined || deadline < scheduled || scheduled < this.now) {
        this.scheduledWake.set(node, deadline);
        this.push(Math.max(deadline, this.now), { kind: "wake", node });
      }
    }
  }

  /** Carries out one action of a role. */
  private perform(node: SimNode, action: Action<unknown>): void {
    switch (action.type) {
      case "event":
        if (node.events.length >= 10_000) node.events.splice(0, 5000);
        node.events.push(action.event);
        return;
      case "send": {
        const entry = this.ends.get(node)!.get(action.connection);
        if (entry === undefined || !entry.connection.open) return;
        const { connection, end } = entry;
        const other = connection.a === end ? connection.b : connection.a;
        if (this.linkBlocked(node, other.node)) return; // lost; the connection will break
        const bytes = encodeMessage(action.message, { profile: node.profile });
        let time = this.now + this.delay(node, other.node);
        if (this.net.loss > 0 && this.random.next() < this.net.loss) {
          time += this.net.retransmissionDelay;
        }
        time = Math.max(time, other.lastDelivery);
        other.lastDelivery = time;
        this.push(time, { kind: "deliver", to: other, connection, bytes });
        return;
      }
      case "multicast": {
        const bytes = encodeMessage(action.message, { profile: node.profile });
        const source = {
          address: node.address,
          port: action.channel === "asap-announce" ? SIM_PORTS.asap : SIM_PORTS.enrp,
        };
        for (const to of this.nodes.values()) {
          if (to === node || !to.channels.has(action.channel) || this.linkBlocked(node, to)) {
            continue;
          }
          if (this.net.multicastLoss > 0 && this.random.next() < this.net.multicastLoss) continue;
          this.push(this.now + this.delay(), {
            kind: "multicast",
            to,
            channel: action.channel,
            bytes,
            source,
            profile: node.profile,
          });
        }
        return;
      }
      case "connect":
        return this.connect(node, action.connection, action.protocol, action.remote);
      case "close": {
        const entry = this.ends.get(node)!.get(action.connection);
        if (entry === undefined) return;
        this.ends.get(node)!.delete(action.connection);
        const { connection, end } = entry;
        if (!connection.open) return;
        connection.open = false;
        const other = connection.a === end ? connection.b : connection.a;
        this.push(Math.max(this.now + this.delay(), other.lastDelivery), {
          kind: "down",
          end: other,
          connection,
        });
        return;
      }
    }
  }

  /** Opens a simulated connection: established, refused, or silently unreachable. */
  private connect(
    node: SimNode,
    id: ConnectionId,
    protocol: ProtocolName,
    remote: TransportParameter,
  ): void {
    const target = remote.addresses.map((a) => this.byAddress.get(a)).find((n) => n !== undefined);
    const ok = target !== undefined && !target.crashed &&
      target.listening.get(remote.port) === protocol &&
      !this.linkBlocked(node, target);
    const localPort = protocol === "asap" ? node.asapPort : 40000 + (this.serial % 20000);
    const a: End = {
      node,
      id,
      lastDelivery: 0,
      remote: { address: remote.addresses[0], port: remote.port, transport: "SCTP" },
    };
    const b: End = {
      node: target ?? node,
      id: `in:${this.nextAccepted++}`,
      lastDelivery: 0,
      remote: { address: node.address, port: localPort, transport: "SCTP" },
    };
    const connection: SimConnection = {
      serial: this.serial++,
      protocol,
      a,
      b,
      open: true,
      established: false,
    };
    this.ends.get(node)!.set(id, { connection, end: a });
    if (!ok) {
      // Refused at once when the host is there but not listening; silence when unreachable.
      const reachable = target !== undefined && !target.crashed && !this.linkBlocked(node, target);
      connection.open = false;
      this.push(this.now + (reachable ? 2 * this.delay() : this.net.failureDetection), {
        kind: "down",
        end: a,
        connection,
      });
      return;
    }
    this.stats.connections++;
    this.push(this.now + 2 * this.delay(node, target!), { kind: "established", connection });
  }

  /** Processes one queued event. */
  private handle(event: QueuedEvent): void {
    switch (event.kind) {
      case "call":
        event.fn();
        return;
      case "wake": {
        const node = event.node;
        if (node.crashed) return;
        const deadline = node.role.nextDeadline();
        if (this.scheduledWake.get(node) === this.now) this.scheduledWake.delete(node);
        if (deadline === undefined || deadline > this.now) {
          this.flush(node);
          return;
        }
        node.role.advanceTime(this.now);
        this.flush(node);
        return;
      }
      case "established": {
        const c = event.connection;
        if (!c.open) return;
        if (c.a.node.crashed || c.b.node.crashed) return;
        c.established = true;
        this.ends.get(c.b.node)!.set(c.b.id, { connection: c, end: c.b });
        c.b.node.role.accepted?.(c.b.id, c.protocol, c.b.remote, this.now);
        if (c.protocol === "session" && c.b.node.kind === "element") {
          // The element's application hands the new session its state as a cookie (RFC 5352 §3.8).
          const element = c.b.node.role as unknown as PoolElement;
          element.sendCookie(c.b.id, new TextEncoder().encode(`${c.b.node.name}#${this.serial}`));
        }
        this.flush(c.b.node);
        c.a.node.role.connectionUp(c.a.id, this.now, c.a.remote);
        this.flush(c.a.node);
        return;
      }
      case "deliver": {
        const { to, connection, bytes } = event;
        if (to.node.crashed || !this.ends.get(to.node)!.has(to.id)) return;
        this.stats.messages++;
        if (connection.protocol === "enrp") this.stats.enrpMessages++;
        const role = to.node.role;
        if (role.receiveBytes !== undefined) {
          role.receiveBytes(to.id, bytes, this.now);
        } else {
          const message = connection.protocol === "enrp"
            ? decodeEnrp(bytes, { lenient: true, profile: to.node.profile })
            : decodeAsap(bytes, { lenient: true, profile: to.node.profile });
          role.receive(to.id, message, this.now);
        }
        this.flush(to.node);
        return;
      }
      case "down": {
        const { end } = event;
        if (end.node.crashed) return;
        const entry = this.ends.get(end.node)!.get(end.id);
        if (entry === undefined || entry.connection !== event.connection) return;
        this.ends.get(end.node)!.delete(end.id);
        end.node.role.connectionDown(end.id, this.now);
        this.flush(end.node);
        return;
      }
      case "multicast": {
        const { to } = event;
        if (to.crashed) return;
        this.stats.multicast++;
        const message = event.channel === "enrp-presence"
          ? decodeEnrp(event.bytes, { lenient: true, profile: event.profile })
          : decodeAsap(event.bytes, { lenient: true, profile: event.profile });
        to.role.receiveMulticast(event.channel, message, event.source, this.now);
        this.flush(to);
        return;
      }
    }
  }

  /** Runs until virtual time `time` (inclusive). */
  runUntil(time: number): void {
    for (;;) {
      const top = this.queue[0];
      if (top === undefined || top.time > time) break;
      this.pop();
      this.now = Math.max(this.now, top.time);
      this.stats.events++;
      this.handle(top.event);
      this.check?.();
    }
    this.now = Math.max(this.now, time);
  }

  /** Runs for `ms` of virtual time. */
  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /**
   * Crashes a host: a killed process aborts its connections at once (the
   * peers' kernels see it); `silent` (power loss) lets the peers notice
   * only after the failure-detection delay.
   */
  crash(name: string, silent = false): void {
    const node = this.nodes.get(name)!;
    if (node.crashed) return;
    node.crashed = true;
    this.scheduledWake.delete(node);
    for (const { connection, end } of this.ends.get(node)!.values()) {
      if (!connection.open) continue;
      connection.open = false;
      const other = connection.a === end ? connection.b : connection.a;
      const delay = silent ? this.net.failureDetection : this.delay();
      this.push(this.now + delay, { kind: "down", end: other, connection });
    }
    this.ends.get(node)!.clear();
  }

  /** Restarts a crashed host with a fresh role (same address). */
  restart(name: string): void {
    const node = this.nodes.get(name)!;
    if (!node.crashed) return;
    node.crashed = false;
    node.role = node.create();
    this.start(node);
  }

  /**
   * Cuts the network between two groups of hosts: connections across the
   * cut break after the failure-detection delay; nothing crosses until
   * {@link Simulation.heal}.
   */
  partition(left: readonly string[], right: readonly string[]): void {
    for (const a of left) {
      for (const b of right) {
        this.blocked.add(`${a}|${b}`);
        this.blocked.add(`${b}|${a}`);
      }
    }
    for (const a of left) {
      const node = this.nodes.get(a)!;
      for (const { connection, end } of this.ends.get(node)!.values()) {
        const other = connection.a === end ? connection.b : connection.a;
        if (!right.includes(other.node.name) || !connection.open) continue;
        connection.open = false;
        this.push(this.now + this.net.failureDetection, { kind: "down", end, connection });
        this.push(this.now + this.net.failureDetection, { kind: "down", end: other, connection });
      }
    }
  }

  /** Removes every partition. */
  heal(): void {
    this.blocked.clear();
  }

  /** The events a host's role emitted, with their kinds. */
  eventsOf<E extends RegistrarEvent | PoolElementEvent | PoolUserEvent>(name: string): E[] {
    return this.nodes.get(name)!.events as E[];
  }
}
