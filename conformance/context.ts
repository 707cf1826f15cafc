/**
 * What a case works with: connections to the target and listeners of its
 * own (as a registrar for elements, as an element for registrars), message
 * builders, the target's timers, and the evidence it leaves.
 *
 * @module
 */

import { TransportUse } from "../lib/protocol/constants.ts";
import type {
  Identifier,
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  Registration,
  ServerInformation,
  TransportParameter,
  WireProfile,
} from "../lib/protocol/types.ts";
import { profilePpids } from "../lib/runtime/driver.ts";
import { type Endpoint, formatEndpoint, transportParameter } from "../lib/runtime/endpoint.ts";
import { StreamTransport } from "../lib/transport/tcp.ts";
import type { Framing, MessageListener, MessageTransport } from "../lib/transport/types.ts";
import { UdpChannel, type UdpChannelSettings } from "../lib/transport/udp.ts";
import { DecodeError } from "../lib/errors.ts";
import { decodeAsap, decodeEnrp } from "../lib/protocol/codec.ts";
import { toJsonValue } from "../lib/protocol/json.ts";
import { toHex } from "../lib/wire/hex.ts";
import {
  type Arrival,
  ExpectationFailure,
  Peer,
  type PeerRecorder,
  type WireRecord,
} from "./peer.ts";
import type { Evidence, Feature, TargetTimers } from "./types.ts";

/** Thrown by a case to end with a verdict other than OK. */
export class CaseOutcome extends Error {
  /** `FAILED` or `UNSUPPORTED`. */
  readonly verdict: "FAILED" | "UNSUPPORTED";
  /** Why. */
  readonly reason: string;

  /**
   * Creates the outcome.
   *
   * @param verdict `FAILED` or `UNSUPPORTED`
   * @param reason why
   */
  constructor(verdict: "FAILED" | "UNSUPPORTED", reason: string) {
    super(reason);
    this.name = "CaseOutcome";
    this.verdict = verdict;
    this.reason = reason;
  }
}

/** Starts and stops a pool element under test with the registrars it should use. */
export interface ElementDriver {
  /**
   * Starts one; `registrars` are the suite's ASAP listeners. `policy`, when
   * given, is the selection policy it must register with (drivers that
   * cannot choose it say so in {@link ElementDriver.choosesPolicy}).
   */
  start(options: {
    registrars: Endpoint[];
    pool: string;
    policy?: PoolMemberSelectionPolicy;
    announce?: UdpChannelSettings;
  }): Promise<RunningElement>;
  /** Whether {@link ElementDriver.start} honours `policy`. */
  readonly choosesPolicy?: boolean;
  /** Whether the element it starts can hunt by Server Announces on the `announce` channel. */
  readonly hearsAnnounces?: boolean;
}

/** A pool element the runner started. */
export interface RunningElement extends RunningTarget {
  /**
   * Changes its policy values (a new load, say) as its application would;
   * absent when the driver cannot.
   */
  updatePolicy?(policy: PoolMemberSelectionPolicy): void;
}

/** Starts a pool user under test that uses a pool through a registrar. */
export interface UserDriver {
  /**
   * Starts one; it resolves `pool` at `registrar` (or, when it takes
   * several, at any of `registrars`, the first of which is `registrar`) and
   * talks to its elements.
   */
  start(options: {
    registrar: Endpoint;
    registrars: Endpoint[];
    pool: string;
    announce?: UdpChannelSettings;
  }): Promise<RunningUser>;
  /** Whether the user it starts takes several registrars. */
  readonly severalRegistrars?: boolean;
  /** Whether the user it starts can hunt by Server Announces on the `announce` channel. */
  readonly hearsAnnounces?: boolean;
}

/** A pool user the runner started. */
export interface RunningUser extends RunningTarget {
  /** Makes the user send one line of application data in its session. */
  send(line: string): void;
  /**
   * Opens one more session with the pool in the same user (same cache and
   * registrar), sending `line` in it; absent when the driver cannot.
   */
  openSession?(line: string): void;
}

/** Starts registrars under test (for start-up and mentor cases). */
export interface RegistrarDriver {
  /**
   * Starts one that knows `peers` (the suite's ENRP listeners) as its
   * static peers and, with `presence`, sends and hears ENRP Presences by
   * multicast on that channel.
   */
  start(options: { peers: Endpoint[]; presence?: UdpChannelSettings }): Promise<
    RunningRegistrarTarget
  >;
  /** Whether {@link RegistrarDriver.start} honours `presence`. */
  readonly multicastPresence?: boolean;
}

/** A registrar the runner started. */
export interface RunningRegistrarTarget {
  /** Its ASAP endpoint. */
  readonly asap: Endpoint;
  /** Its ENRP endpoint. */
  readonly enrp: Endpoint;
  /** Stops it. */
  stop(): Promise<void>;
}

/** A target the runner started. */
export interface RunningTarget {
  /** Stops it the orderly way (an element deregisters). */
  stop(): Promise<void>;
  /** Kills it. */
  kill(): Promise<void>;
}

/** How the runner was configured. */
export interface RunConfig {
  /** The target registrar's ASAP endpoint. */
  readonly asap?: Endpoint;
  /** The target registrar's ENRP endpoint. */
  readonly enrp?: Endpoint;
  /** Wire profile of every message. */
  readonly profile: WireProfile;
  /** The target's timers. */
  readonly timers: TargetTimers;
  /** Features the target claims. */
  readonly features: ReadonlySet<Feature>;
  /** SHOULD violations fail. */
  readonly strict: boolean;
  /** Address the suite's own listeners bind and advertise. */
  readonly listenHost: string;
  /**
   * The SCTP transport for `sctp://` targets; when the target is reached
   * over SCTP, the suite's own listeners use it too (their address is the
   * transport's advertised one).
   */
  readonly sctp?: MessageTransport;
  /** Drives pool elements under test. */
  readonly element?: ElementDriver;
  /** Drives pool users under test. */
  readonly user?: UserDriver;
  /** Starts registrars under test (start-up cases); absent when the runner cannot. */
  readonly registrar?: RegistrarDriver;
  /** The UDP channel the target registrar sends its Server Announces on. */
  readonly announce?: UdpChannelSettings;
}

let counter = 0;

/** The context of one case run. */
export class CaseContext implements PeerRecorder {
  /** The evidence so far. */
  readonly evidence: Evidence = { messages: [], notes: [] };
  /** Raw messages, for captures. */
  readonly wire: WireRecord[] = [];
  /** SHOULD-level problems seen (they make the verdict NON-STRICT). */
  readonly shortfalls: string[] = [];
  private readonly started = performance.now();
  private readonly peers: Peer[] = [];
  private readonly listeners: MessageListener[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly tcp = new StreamTransport({ idleTimeout: 0, connectTimeout: 3000 });
  private readonly tag = `${(++counter).toString(36)}${
    Math.floor(Math.random() * 1e6).toString(36)
  }`;
  private names = 0;
  /** The PPIDs of the profile. */
  readonly ppid: { asap: number; enrp: number };

  /** The run's configuration. */
  readonly config: RunConfig;
  /** The case being run. */
  readonly caseId: string;

  /**
   * Creates the context of one case run.
   *
   * @param config the run's configuration
   * @param caseId the case (names its pools)
   */
  constructor(config: RunConfig, caseId: string) {
    this.config = config;
    this.caseId = caseId;
    this.ppid = profilePpids(config.profile);
  }

  /** The target's timers. */
  get timers(): TargetTimers {
    return this.config.timers;
  }

  /** How long to wait for an answer to a request. */
  get answerTime(): number {
    return this.config.timers.slack + 1000;
  }

  /** Milliseconds since the case started. */
  elapsed(): number {
    return Math.round(performance.now() - this.started);
  }

  /** Records a message (the {@link PeerRecorder} side). */
  record(
    connection: string,
    direction: "sent" | "received",
    message: unknown,
    wire: Omit<WireRecord, "t" | "direction">,
  ): void {
    const t = this.elapsed();
    this.evidence.messages.push({ t, connection, direction, message });
    this.wire.push({ t, direction, ...wire });
  }

  /** Adds an observation to the evidence. */
  note(text: string): void {
    this.evidence.notes.push(`${this.elapsed()} ms: ${text}`);
  }

  /** Ends the case as FAILED. */
  fail(expected: string, got: string): never {
    this.evidence.expected = expected;
    this.evidence.got = got;
    throw new CaseOutcome("FAILED", `expected ${expected}; got ${got}`);
  }

  /** Ends the case as UNSUPPORTED. */
  unsupported(reason: string): never {
    throw new CaseOutcome("UNSUPPORTED", reason);
  }

  /** Records a SHOULD-level shortfall when `ok` is false (the verdict becomes NON-STRICT). */
  should(ok: boolean, requirement: string, got: string): void {
    if (ok) return;
    this.shortfalls.push(`${requirement} (got ${got})`);
    this.note(`SHOULD not met: ${requirement}; got ${got}`);
  }

  /** Fails unless `ok`. */
  must(ok: boolean, requirement: string, got: string): void {
    if (!ok) this.fail(requirement, got);
  }

  /** Waits. */
  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  /** Registers work to do when the case ends (stop a started target, …). */
  onCleanup(f: () => Promise<void> | void): void {
    this.cleanups.push(f);
  }

  // ---------------------------------------------------------------------
  // Connections

  /** Opens a connection to the target with a fresh peer. */
  private async connect(
    endpoint: Endpoint,
    protocol: "asap" | "enrp",
    framing: Framing = "message",
    localPort?: number,
  ): Promise<Peer> {
    const peer = new Peer(
      `${framing === "session" ? "session" : protocol}#${++this.names}`,
      protocol,
      protocol === "asap" ? this.ppid.asap : this.ppid.enrp,
      this.config.profile,
      this,
    );
    try {
      const connection = await this.transportFor(endpoint).connect(
        {
          addresses: [endpoint.address],
          port: endpoint.port,
          framing,
          ppid: protocol === "asap" ? this.ppid.asap : this.ppid.enrp,
          localPort,
        },
        peer.handlers(),
      );
      peer.attach(connection);
    } catch (e) {
      this.fail(`a connection to ${formatEndpoint(endpoint)}`, (e as Error).message);
    }
    this.peers.push(peer);
    this.note(`${peer.name} connected to ${formatEndpoint(endpoint)}`);
    return peer;
  }

  /** The transport that reaches an endpoint. */
  private transportFor(endpoint: Endpoint): MessageTransport {
    if (endpoint.transport !== "SCTP") return this.tcp;
    if (this.config.sctp === undefined) {
      this.unsupported(`${formatEndpoint(endpoint)} needs an SCTP transport`);
    }
    return this.config.sctp;
  }

  /** Whether the suite's own listeners use SCTP (the target speaks SCTP). */
  get overSctp(): boolean {
    return this.config.sctp !== undefined &&
      (this.config.asap?.transport === "SCTP" || this.config.enrp?.transport === "SCTP");
  }

  /** A new ASAP connection to the target registrar (or to another registrar's ASAP endpoint). */
  asap(endpoint: Endpoint | undefined = this.config.asap): Promise<Peer> {
    if (endpoint === undefined) {
      this.unsupported("no ASAP endpoint of the target (--target)");
    }
    return this.connect(endpoint, "asap");
  }

  /**
   * A new ENRP connection to the target registrar; over SCTP from
   * `localPort` when given (a suite listener's port, as a registrar's ENRP
   * associations start at its ENRP port); to `endpoint` when given (a
   * registrar the runner started) instead of the target's.
   */
  enrp(localPort?: number, endpoint: Endpoint | undefined = this.config.enrp): Promise<Peer> {
    if (endpoint === undefined) this.unsupported("no ENRP endpoint of the target (--enrp)");
    return this.connect(endpoint, "enrp", "message", localPort);
  }

  /**
   * A connection to a pool element's session port (a TCP user transport
   * with DATA PLUS CONTROL): ASAP travels there in session frames.
   */
  session(endpoint: Endpoint): Promise<Peer> {
    return this.connect(endpoint, "asap", "session");
  }

  /**
   * A listener of the suite's own: `asap` (as a registrar for elements),
   * `enrp` (as a peer registrar), or `session` (as a pool element with a
   * DATA PLUS CONTROL TCP user transport, reachable for Home keep-alives),
   * on `port` (default: any free one).
   */
  async listen(kind: "asap" | "enrp" | "session", port = 0): Promise<SuiteListener> {
    const framing: Framing = kind === "session" ? "session" : "message";
    const protocol = kind === "enrp" ? "enrp" : "asap";
    const accepted: Peer[] = [];
    const waiters: (() => void)[] = [];
    const listener = await (this.overSctp ? this.config.sctp! : this.tcp).listen(
      { host: this.config.listenHost, port, framing, ppid: this.ppid[protocol] },
      (connection) => {
        const peer = new Peer(
          `${kind}-listener#${++this.names}`,
          protocol,
          this.ppid[protocol],
          this.config.profile,
          this,
        );
        peer.attach(connection);
        accepted.push(peer);
        this.peers.push(peer);
        this.note(`${peer.name} accepted from ${formatEndpoint(connection.remote)}`);
        waiters.splice(0).forEach((w) => w());
        return peer.handlers();
      },
    );
    this.listeners.push(listener);
    const endpoint: Endpoint = this.overSctp
      ? { address: listener.address.address, port: listener.address.port, transport: "SCTP" }
      : { address: this.config.listenHost, port: listener.address.port };
    let handedOut = 0;
    /** Waits until more than `seen` connections arrived; false when `ms` ran out first. */
    const arrived = async (seen: number, ms: number): Promise<boolean> => {
      const deadline = performance.now() + ms;
      while (accepted.length <= seen) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        await new Promise<void>((r) => {
          const timer = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(timer);
            r();
          });
        });
      }
      return true;
    };
    return {
      endpoint,
      accepted,
      get unclaimed() {
        return accepted.length - handedOut;
      },
      arrival: async (ms: number) => {
        await arrived(handedOut, ms);
      },
      next: async (ms: number, what: string) => {
        const seen = handedOut;
        if (!await arrived(seen, ms)) {
          this.fail(what, `no connection to ${formatEndpoint(endpoint)} within ${ms} ms`);
        }
        handedOut = seen + 1;
        return accepted[seen];
      },
      close: () => listener.close(),
    };
  }

  /**
   * A UDP channel of the suite's own for this case (a multicast group on
   * the suite's address, a port of its own): where it sends Server
   * Announces for elements and users to hunt by, or hears a registrar's
   * (or, for `enrp`, its multicast Presences). Datagrams that arrive go to
   * `receive`; the evidence records them.
   */
  async announceChannel(
    settings?: UdpChannelSettings,
    receive: (m: Arrival) => void = () => {},
    protocol: "asap" | "enrp" = "asap",
  ): Promise<UdpChannel> {
    const chosen = settings ?? {
      group: "239.255.77.3",
      port: 20000 + Math.floor(Math.random() * 20000),
      interface: this.config.listenHost,
      ttl: 1,
    };
    const remote = { address: chosen.group, port: chosen.port };
    let channel: UdpChannel | undefined;
    try {
      channel = await UdpChannel.open(chosen, (bytes, source) => {
        let m: Arrival;
        try {
          const options = { lenient: true, profile: this.config.profile };
          m = protocol === "asap" ? decodeAsap(bytes, options) : decodeEnrp(bytes, options);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          m = { type: "Undecodable", bytes: bytes.slice(), error: e.message };
        }
        this.record(
          `announce@${source.address}:${source.port}`,
          "received",
          m.type === "Undecodable" ? { undecodable: toHex(m.bytes) } : toJsonValue(m),
          { ppid: this.ppid[protocol], bytes, local: remote, remote: source },
        );
        receive(m);
      });
    } catch (e) {
      this.unsupported(`no multicast here: ${(e as Error).message}`);
    }
    const open = channel;
    const send = open.send.bind(open);
    Object.assign(open, {
      send: (bytes: Uint8Array) => {
        this.record("announce", "sent", { raw: toHex(bytes) }, {
          ppid: this.ppid[protocol],
          bytes,
          local: remote,
          remote,
        });
        send(bytes);
      },
    });
    this.onCleanup(() => open.close());
    return open;
  }

  /** Runs `f`, turning an unmet expectation into a FAILED verdict with its evidence. */
  async expecting<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ExpectationFailure) this.fail(e.expected, e.got);
      throw e;
    }
  }

  /** Closes every connection and listener of the case and runs the cleanups. */
  async close(): Promise<void> {
    for (const f of this.cleanups.reverse()) {
      try {
        await f();
      } catch (e) {
        this.note(`cleanup failed: ${(e as Error).message}`);
      }
    }
    for (const p of this.peers) p.close(true);
    await Promise.all(this.listeners.map((l) => l.close()));
  }

  // ---------------------------------------------------------------------
  // Builders

  /** A pool handle of its own for this case. */
  poolHandle(suffix = ""): Uint8Array {
    return new TextEncoder().encode(`conf-${this.tag}${suffix}`.slice(0, 32));
  }

  /** A random non-zero identifier of the profile's size. */
  identifier(): Identifier {
    const word = () => 1 + Math.floor(Math.random() * 0xfffffffe);
    return this.config.profile === "nextgen" ? (BigInt(word()) << 32n) | BigInt(word()) : word();
  }

  /** The zero identifier of the profile. */
  get zero(): Identifier {
    return this.config.profile === "nextgen" ? 0n : 0;
  }

  /** A TCP user transport (DATA ONLY unless told). */
  userTransport(
    port: number = 20000 + Math.floor(Math.random() * 20000),
    control = false,
  ): TransportParameter {
    return {
      type: "TCP",
      port,
      transportUse: control ? TransportUse.DataPlusControl : TransportUse.DataOnly,
      addresses: [this.config.listenHost],
    };
  }

  /** A Pool Element parameter as a pool element registers it. */
  poolElement(
    identifier: Identifier,
    options: {
      policy?: PoolMemberSelectionPolicy;
      transport?: TransportParameter;
      life?: number;
      home?: Identifier;
      asapTransport?: TransportParameter;
    } = {},
  ): PoolElementParameter {
    return {
      identifier,
      homeRegistrarId: options.home ?? this.zero,
      registrationLife: options.life ?? 60_000,
      userTransport: options.transport ?? this.userTransport(),
      policy: options.policy ?? { type: "RoundRobin" },
      ...(options.asapTransport === undefined ? {} : { asapTransport: options.asapTransport }),
    };
  }

  /** An ASAP_REGISTRATION. */
  registration(
    poolHandle: Uint8Array,
    identifier: Identifier,
    options: Parameters<CaseContext["poolElement"]>[1] = {},
  ): Registration {
    return { type: "Registration", poolHandle, poolElement: this.poolElement(identifier, options) };
  }

  /** Server Information naming an ENRP endpoint of the suite. */
  serverInformation(registrarId: Identifier, endpoint: Endpoint): ServerInformation {
    return {
      registrarId,
      transport: transportParameter(
        endpoint.transport === undefined && this.overSctp
          ? { ...endpoint, transport: "SCTP" }
          : endpoint,
      ),
    };
  }
}

/** A listener of the suite's own. */
export interface SuiteListener {
  /** Where it listens. */
  readonly endpoint: Endpoint;
  /** Connections accepted so far. */
  readonly accepted: Peer[];
  /** The next connection not handed out yet (waiting for it if needed). */
  next(ms: number, what: string): Promise<Peer>;
  /** How many accepted connections {@link SuiteListener.next} has not handed out yet. */
  readonly unclaimed: number;
  /**
   * Waits (at most `ms`) until a connection not handed out yet is there,
   * without taking it: to wait on several listeners at once without one of
   * them claiming a later connection.
   */
  arrival(ms: number): Promise<void>;
  /** Stops listening (and aborts its connections). */
  close(): Promise<void>;
}
