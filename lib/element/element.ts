/**
 * The Pool Element (PE) as a sans-IO state machine (RFC 5352 §3): finds a
 * home registrar, registers and keeps re-registering, answers endpoint
 * keep-alives (moving home on the Home flag), deregisters, and speaks the
 * control channel of its sessions (Cookie, Cookie Echo, Business Card).
 *
 * @module
 */

import { type RandomSource, systemRandom } from "../policy/random.ts";
import type {
  AsapMessage,
  BusinessCard,
  ErrorCause,
  Identifier,
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  RSerPoolMessage,
  TransportParameter,
  WireProfile,
} from "../protocol/types.ts";
import type {
  Action,
  ConnectionId,
  MulticastChannel,
  ProtocolName,
  RemoteEndpoint,
} from "../role/actions.ts";
import { HomeRegistrar } from "../role/home.ts";
import { RegistrarCandidates } from "../role/hunt.ts";
import { TimerQueue } from "../role/timers.ts";

/** Timers of a pool element, in milliseconds. */
export interface PoolElementTimers {
  /** T2-registration: wait for a Registration Response. */
  readonly registrationTimeout: number;
  /** T3-deregistration: wait for a Deregistration Response. */
  readonly deregistrationTimeout: number;
  /** How long one connection attempt to a registrar may take. */
  readonly connectTimeout: number;
  /** T7-ENRPoutdate: how long an announced registrar stays a candidate. */
  readonly announceTimeout: number;
  /** Wait before hunting again when no candidate is known. */
  readonly huntRetry: number;
}

/** RFC 5352 §7 values (T2, T3), RSPLIB's for the rest. */
export const RFC_ELEMENT_TIMERS: PoolElementTimers = Object.freeze({
  registrationTimeout: 30_000,
  deregistrationTimeout: 30_000,
  connectTimeout: 7500,
  announceTimeout: 5000,
  huntRetry: 1000,
});

/** Options of a {@link PoolElement}. */
export interface PoolElementOptions {
  /** The pool to serve. */
  readonly poolHandle: Uint8Array;
  /** PE identifier; random non-zero when absent. Stays the same for every re-registration. */
  readonly identifier?: Identifier;
  /** Wire profile (`rfc`: 32-bit identifiers; `nextgen`: 64-bit). */
  readonly profile?: WireProfile;
  /** Selection policy and its values. */
  readonly policy: PoolMemberSelectionPolicy;
  /** How pool users reach this element. */
  readonly userTransport: TransportParameter;
  /** Statically configured registrars (their ASAP endpoints). */
  readonly registrars?: readonly TransportParameter[];
  /** T4-reregistration: between registrations (default 30 s). */
  readonly reregistrationInterval?: number;
  /** Registration life (default 3 × the re-registration interval, as RSPLIB). */
  readonly registrationLife?: number;
  /** Registration attempts before hunting another registrar (MAX-REG-ATTEMPT, default 2). */
  readonly maxRegistrationAttempts?: number;
  /** Timers. */
  readonly timers?: Partial<PoolElementTimers>;
  /** Transport assumed for announces without transport parameters (default SCTP). */
  readonly announceTransport?: "SCTP" | "TCP";
  /** Randomness for the identifier. */
  readonly random?: RandomSource;
}

/** What a pool element tells its application. */
export type PoolElementEvent =
  | {
    readonly kind: "registered";
    readonly registrarId: Identifier | undefined;
    readonly first: boolean;
  }
  | { readonly kind: "registration-refused"; readonly causes: readonly ErrorCause[] }
  | { readonly kind: "home-changed"; readonly registrarId: Identifier }
  | { readonly kind: "registrar-lost" }
  | { readonly kind: "no-registrar" }
  | { readonly kind: "deregistered" }
  | { readonly kind: "cookie-echo"; readonly session: ConnectionId; readonly cookie: Uint8Array }
  | { readonly kind: "business-card"; readonly session: ConnectionId; readonly card: BusinessCard };

type Timer = "register" | "reregister" | "deregister" | "connect" | "hunt";

function samePoolHandle(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A Pool Element. */
export class PoolElement {
  /** The PE identifier. */
  readonly identifier: Identifier;
  /** The pool. */
  readonly poolHandle: Uint8Array;
  private policy: PoolMemberSelectionPolicy;
  private readonly userTransport: TransportParameter;
  private readonly interval: number;
  private readonly life: number;
  private readonly maxAttempts: number;
  private readonly timers: PoolElementTimers;
  private readonly nextgen: boolean;
  private readonly home: HomeRegistrar;
  private readonly tasks = new TimerQueue<Timer>();
  private actions: Action<PoolElementEvent>[] = [];
  private nextConnection = 0;
  private attempts = 0;
  private registered = false;
  private everRegistered = false;
  /** Lifecycle state. */
  state: "idle" | "hunting" | "registering" | "registered" | "deregistering" | "closed" = "idle";
  private now = 0;

  /**
   * Creates a pool element; call {@link PoolElement.start} to register.
   *
   * @param options pool, policy, transports, registrars and timers
   */
  constructor(options: PoolElementOptions) {
    const random = options.random ?? systemRandom;
    this.nextgen = options.profile === "nextgen";
    this.identifier = options.identifier ?? this.randomId(random);
    this.poolHandle = options.poolHandle;
    this.policy = options.policy;
    this.userTransport = options.userTransport;
    this.interval = options.reregistrationInterval ?? 30_000;
    this.life = options.registrationLife ?? 3 * this.interval;
    this.maxAttempts = options.maxRegistrationAttempts ?? 2;
    this.timers = { ...RFC_ELEMENT_TIMERS, ...options.timers };
    const candidates = new RegistrarCandidates(
      options.registrars ?? [],
      this.timers.announceTimeout,
      options.announceTransport ?? "SCTP",
    );
    this.home = new HomeRegistrar(
      candidates,
      this.timers.connectTimeout,
      (remote) => this.connect("asap", remote),
      (connection) => this.actions.push({ type: "close", connection }),
    );
  }

  /** A random non-zero identifier of the profile's size. */
  private randomId(random: RandomSource): Identifier {
    const word = () => Math.floor(random.next() * 0x100000000);
    if (this.nextgen) return ((BigInt(word()) << 32n) | BigInt(word())) || 1n;
    return word() || 1;
  }

  /** Opens a connection; returns the id given to it. */
  private connect(protocol: ProtocolName, remote: TransportParameter): ConnectionId {
    const connection = `out:${this.nextConnection++}`;
    this.actions.push({ type: "connect", connection, protocol, remote });
    return connection;
  }

  /** Queues an application event. */
  private emit(event: PoolElementEvent): void {
    this.actions.push({ type: "event", event });
  }

  /** Queues a message on a connection. */
  private send(connection: ConnectionId, message: RSerPoolMessage): void {
    this.actions.push({ type: "send", connection, message });
  }

  /** The registered policy. */
  get currentPolicy(): PoolMemberSelectionPolicy {
    return this.policy;
  }

  /** The Pool Element parameter this element registers. */
  get poolElement(): PoolElementParameter {
    return {
      identifier: this.identifier,
      homeRegistrarId: this.nextgen ? 0n : 0,
      registrationLife: this.life,
      userTransport: this.userTransport,
      policy: this.policy,
    };
  }

  /** Starts the hunt for a home registrar and registers there. */
  start(now: number): void {
    this.now = now;
    if (this.state !== "idle") return;
    this.state = "hunting";
    this.hunt();
  }

  /** Starts or continues the ENRP server hunt (RFC 5352 §3.6). */
  private hunt(): void {
    if (this.state === "closed" || this.state === "deregistering") return;
    this.state = "hunting";
    if (this.home.hunt(this.now)) {
      if (this.home.pending !== undefined) this.tasks.set("connect", this.home.pendingDeadline);
    } else {
      this.emit({ kind: "no-registrar" });
      this.tasks.set("hunt", this.now + this.timers.huntRetry);
    }
  }

  /** Sends ASAP_REGISTRATION to the home registrar and arms T2 (RFC 5352 §3.1). */
  private sendRegistration(): void {
    const connection = this.home.connection;
    if (connection === undefined) return;
    this.attempts++;
    this.send(connection, {
      type: "Registration",
      poolHandle: this.poolHandle,
      poolElement: this.poolElement,
    });
    this.tasks.set("register", this.now + this.timers.registrationTimeout);
    if (!this.registered) this.state = "registering";
  }

  /**
   * Changes the policy values (e.g. the current load for a least-used
   * policy) and re-registers at once (RSPLIB does so for adaptive policies).
   */
  updatePolicy(policy: PoolMemberSelectionPolicy, now: number): void {
    this.now = now;
    this.policy = policy;
    if (this.home.up && (this.state === "registered" || this.state === "registering")) {
      this.sendRegistration();
    }
  }

  /** Deregisters (RFC 5352 §3.2); {@link PoolElementEvent} `deregistered` follows. */
  deregister(now: number): void {
    this.now = now;
    this.tasks.cancel("reregister");
    this.tasks.cancel("register");
    // A registration still unanswered may have been accepted: take it back too.
    if (!this.home.up || (!this.registered && this.attempts === 0)) {
      this.finish();
      return;
    }
    this.state = "deregistering";
    this.send(this.home.connection!, {
      type: "Deregistration",
      poolHandle: this.poolHandle,
      poolElementId: this.identifier,
    });
    this.tasks.set("deregister", now + this.timers.deregistrationTimeout);
  }

  /** Deregistered (or given up): closes the home connection. */
  private finish(): void {
    this.home.abandon();
    this.registered = false;
    this.state = "closed";
    this.tasks.cancel("deregister");
    this.emit({ kind: "deregistered" });
  }

  /** A registrar connected to this element (to send keep-alives with the Home flag). */
  accepted(
    _connection: ConnectionId,
    _protocol: ProtocolName,
    _remote: RemoteEndpoint | undefined,
    now: number,
  ): void {
    this.now = now;
  }

  /** A connection this element asked for is established. */
  connectionUp(connection: ConnectionId, now: number): void {
    this.now = now;
    if (this.home.connectionUp(connection)) {
      this.tasks.cancel("connect");
      this.attempts = 0;
      this.sendRegistration();
    }
  }

  /** A connection failed, was lost or closed. */
  connectionDown(connection: ConnectionId, now: number): void {
    this.now = now;
    const wasHome = connection === this.home.connection;
    if (!this.home.connectionDown(connection)) return;
    this.tasks.cancel("register");
    if (this.state === "deregistering") {
      this.finish();
      return;
    }
    if (wasHome) this.emit({ kind: "registrar-lost" });
    this.hunt();
  }

  /** A message arrived on a connection (registrar or session control channel). */
  receive(connection: ConnectionId, message: RSerPoolMessage, now: number): void {
    this.now = now;
    const m = message as AsapMessage;
    if (connection === this.home.connection) this.home.confirm();
    switch (m.type) {
      case "RegistrationResponse":
        if (connection !== this.home.connection) return;
        if (this.state === "deregistering" || this.state === "closed") return; // too late
        this.tasks.cancel("register");
        this.attempts = 0;
        if (m.reject) {
          this.registered = false;
          this.emit({ kind: "registration-refused", causes: m.operationError ?? [] });
        } else {
          const first = !this.everRegistered;
          this.registered = true;
          this.everRegistered = true;
          if (this.state === "registering" || this.state === "hunting") this.state = "registered";
          this.emit({ kind: "registered", registrarId: this.home.registrarId, first });
        }
        // Re-register before the life ends; after a refusal, try again as RSPLIB does.
        this.tasks.set("reregister", now + this.interval);
        return;
      case "DeregistrationResponse":
        if (connection === this.home.connection && this.state === "deregistering") this.finish();
        return;
      case "EndpointKeepAlive":
        // Another pool's keep-alive is not for this element: discard it (RFC 5352 §3.4, KA1).
        if (!samePoolHandle(m.poolHandle, this.poolHandle)) return;
        // Answer on the connection it came on (RFC 5352 §3.4).
        this.send(connection, {
          type: "EndpointKeepAliveAck",
          poolHandle: this.poolHandle,
          poolElementId: this.identifier,
        });
        if (connection === this.home.connection) {
          this.home.registrarId = m.registrarId;
        } else if (m.home && this.state !== "deregistering" && this.state !== "closed") {
          this.home.adopt(connection, m.registrarId);
          this.tasks.cancel("connect");
          this.emit({ kind: "home-changed", registrarId: m.registrarId });
          this.attempts = 0;
          this.sendRegistration();
        }
        return;
      case "CookieEcho":
        this.emit({ kind: "cookie-echo", session: connection, cookie: m.cookie });
        return;
      case "BusinessCard":
        this.emit({ kind: "business-card", session: connection, card: m });
        return;
      default:
        return;
    }
  }

  /** A multicast message arrived: ASAP Server Announces feed the hunt. */
  receiveMulticast(
    channel: MulticastChannel,
    message: RSerPoolMessage,
    source: RemoteEndpoint,
    now: number,
  ): void {
    this.now = now;
    if (channel !== "asap-announce" || message.type !== "ServerAnnounce") return;
    this.home.candidates.announce(message.registrarId, message.transports, source, now);
    if (this.state === "hunting" && !this.home.up && this.home.pending === undefined) {
      this.tasks.cancel("hunt");
      this.hunt();
    }
  }

  /** Sends an ASAP Cookie to a session's pool user (RFC 5352 §3.8). */
  sendCookie(session: ConnectionId, cookie: Uint8Array): void {
    this.send(session, { type: "Cookie", cookie });
  }

  /** Sends an ASAP Business Card to a session's peer (RFC 5352 §3.9). */
  sendBusinessCard(session: ConnectionId, poolElements: readonly PoolElementParameter[]): void {
    this.send(session, { type: "BusinessCard", poolHandle: this.poolHandle, poolElements });
  }

  /** Time passed. */
  advanceTime(now: number): void {
    this.now = now;
    for (let t = this.tasks.popDue(now); t !== undefined; t = this.tasks.popDue(now)) {
      switch (t) {
        case "connect":
          if (this.home.checkTimeout(now)) this.hunt();
          break;
        case "hunt":
          this.hunt();
          break;
        case "reregister":
          if (this.home.up) this.sendRegistration();
          break;
        case "register":
          // T2 expired: retransmit, or after MAX-REG-ATTEMPT hunt another registrar (§3.7.3).
          if (this.attempts < this.maxAttempts) {
            this.sendRegistration();
          } else {
            this.home.abandon();
            this.emit({ kind: "registrar-lost" });
            this.hunt();
          }
          break;
        case "deregister":
          this.finish();
          break;
      }
    }
  }

  /** The actions to carry out, in order; the queue is emptied. */
  drainActions(): Action<PoolElementEvent>[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  /** When {@link PoolElement.advanceTime} should next be called. */
  nextDeadline(): number | undefined {
    return this.tasks.next();
  }

  /** Whether the element is registered. */
  get isRegistered(): boolean {
    return this.registered && this.home.up;
  }

  /** The home registrar's identifier, when known. */
  get homeRegistrarId(): Identifier | undefined {
    return this.home.registrarId;
  }

  /** The connection to the home registrar. */
  get homeConnection(): ConnectionId | undefined {
    return this.home.connection;
  }
}
