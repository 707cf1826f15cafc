/**
 * The suite's end of a connection: sends messages, queues what arrives,
 * waits for what a case expects, and writes everything into the evidence.
 *
 * @module
 */

import { DecodeError } from "../lib/errors.ts";
import { decodeAsap, decodeEnrp, encodeMessage } from "../lib/protocol/codec.ts";
import { toJsonValue } from "../lib/protocol/json.ts";
import type {
  AsapMessage,
  EnrpMessage,
  Identifier,
  RSerPoolMessage,
  WireProfile,
} from "../lib/protocol/types.ts";
import type { RemoteEndpoint } from "../lib/role/actions.ts";
import type { ConnectionHandlers, MessageConnection } from "../lib/transport/types.ts";
import { toHex } from "../lib/wire/hex.ts";

/** A message that did not decode. */
export interface Undecodable {
  /** Marker. */
  readonly type: "Undecodable";
  /** Its bytes. */
  readonly bytes: Uint8Array;
  /** Why. */
  readonly error: string;
}

/** Anything that can arrive. */
export type Arrival = RSerPoolMessage | Undecodable;

/** A raw record for captures. */
export interface WireRecord {
  /** Milliseconds since the case started. */
  readonly t: number;
  /** Which way. */
  readonly direction: "sent" | "received";
  /** PPID of the message. */
  readonly ppid: number;
  /** Its bytes. */
  readonly bytes: Uint8Array;
  /** The suite's end. */
  readonly local: RemoteEndpoint;
  /** The target's end. */
  readonly remote: RemoteEndpoint;
}

/** Where a peer reports what it sends and receives. */
export interface PeerRecorder {
  /** Records a message for the evidence (and for captures). */
  record(
    connection: string,
    direction: "sent" | "received",
    message: unknown,
    wire: Omit<WireRecord, "t" | "direction">,
  ): void;
}

/** Thrown when an expected message does not arrive. */
export class ExpectationFailure extends Error {
  /** What was expected. */
  readonly expected: string;
  /** What arrived instead. */
  readonly got: string;

  /**
   * Creates the failure.
   *
   * @param expected what the case waited for
   * @param got what arrived meanwhile
   */
  constructor(expected: string, got: string) {
    super(`expected ${expected}; got ${got}`);
    this.name = "ExpectationFailure";
    this.expected = expected;
    this.got = got;
  }
}

function describe(m: Arrival): string {
  if (m.type === "Undecodable") return `undecodable bytes (${m.error})`;
  const extra = m.type === "RegistrationResponse"
    ? m.reject ? " R=1" : " R=0"
    : m.type === "EndpointKeepAlive"
    ? m.home ? " H=1" : " H=0"
    : "operationError" in m && m.operationError !== undefined
    ? ` cause 0x${m.operationError.map((c) => c.code.toString(16)).join(",0x")}`
    : "";
  return `${m.type}${extra}`;
}

/** The suite's end of one connection. */
export class Peer {
  /** Messages received and not yet taken by an expectation. */
  readonly inbox: Arrival[] = [];
  /** Every message received (for checks of what was never sent). */
  readonly received: Arrival[] = [];
  /** When each of {@link Peer.received} arrived (`performance.now()`). */
  readonly receivedAt: number[] = [];
  /** Application data received on a session (up to 1 MiB kept), in order. */
  readonly data: Uint8Array[] = [];
  private dataBytes = 0;
  private waiters: (() => void)[] = [];
  private connection: MessageConnection | undefined;
  private isClosed = false;
  private readonly keepAliveAnswers = new Map<string, Identifier[]>();
  private readonly responders: ((m: Arrival) => boolean)[] = [];

  /** How the evidence names it (`asap#1`). */
  readonly name: string;
  /** What it carries. */
  readonly protocol: "asap" | "enrp";
  private readonly ppid: number;
  private readonly profile: WireProfile;
  private readonly recorder: PeerRecorder;

  /**
   * Creates the suite's end of a connection (attach the connection later).
   *
   * @param name how the evidence names it (`asap#1`)
   * @param protocol what it carries
   * @param ppid the PPID of its ASAP or ENRP messages
   * @param profile wire profile
   * @param recorder where messages are recorded
   */
  constructor(
    name: string,
    protocol: "asap" | "enrp",
    ppid: number,
    profile: WireProfile,
    recorder: PeerRecorder,
  ) {
    this.name = name;
    this.protocol = protocol;
    this.ppid = ppid;
    this.profile = profile;
    this.recorder = recorder;
  }

  /** Handlers to give the transport (before the connection exists). */
  handlers(): ConnectionHandlers {
    return {
      message: (ppid, payload) => {
        if (ppid !== this.ppid) {
          // Application data on a session: kept for the cases that look at it.
          if (this.dataBytes + payload.length <= 1 << 20) {
            this.data.push(payload.slice());
            this.dataBytes += payload.length;
          }
          return;
        }
        this.arrived(payload);
      },
      closed: () => {
        this.isClosed = true;
        this.wake();
      },
    };
  }

  /** The application data received so far, as text. */
  dataText(): string {
    const decoder = new TextDecoder();
    return this.data.map((d) => decoder.decode(d)).join("");
  }

  /** Attaches the connection once it is up. */
  attach(connection: MessageConnection): void {
    this.connection = connection;
  }

  /** The suite's end of the connection (address and port), once connected. */
  get local(): RemoteEndpoint | undefined {
    return this.connection?.local;
  }

  /** Whether the target closed (or the suite closed) the connection. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Wakes whoever waits for an arrival. */
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Decodes, records and queues (or answers) an arrival. */
  private arrived(bytes: Uint8Array): void {
    let m: Arrival;
    try {
      m = this.protocol === "asap"
        ? decodeAsap(bytes, { lenient: true, profile: this.profile })
        : decodeEnrp(bytes, { lenient: true, profile: this.profile });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      m = { type: "Undecodable", bytes: bytes.slice(), error: `${e.code}: ${e.message}` };
    }
    this.recordWire("received", m, bytes);
    this.received.push(m);
    this.receivedAt.push(performance.now());
    if (m.type === "EndpointKeepAlive" && !m.home) {
      const ids = this.keepAliveAnswers.get(toHex(m.poolHandle));
      if (ids !== undefined) {
        for (const id of ids) {
          this.send({ type: "EndpointKeepAliveAck", poolHandle: m.poolHandle, poolElementId: id });
        }
        return;
      }
    }
    for (const respond of this.responders) if (respond(m)) return;
    this.inbox.push(m);
    this.wake();
  }

  /** Queues a message that arrived elsewhere (another connection of the same peer) as if it came here. */
  inject(m: Arrival): void {
    this.received.push(m);
    this.receivedAt.push(performance.now());
    this.inbox.push(m);
    this.wake();
  }

  /**
   * Answers arrivals automatically: `respond` returns true when it dealt
   * with a message (it is then not queued for expectations).
   */
  respond(respond: (m: Arrival) => boolean): void {
    this.responders.push(respond);
  }

  /** Records a message with its bytes. */
  private recordWire(direction: "sent" | "received", m: Arrival, bytes: Uint8Array): void {
    const c = this.connection;
    this.recorder.record(
      this.name,
      direction,
      m.type === "Undecodable" ? { undecodable: toHex(m.bytes), error: m.error } : toJsonValue(m),
      {
        ppid: this.ppid,
        bytes,
        local: c?.local ?? { address: "127.0.0.1", port: 0 },
        remote: c?.remote ?? { address: "127.0.0.1", port: 0 },
      },
    );
  }

  /** Sends a message (encoded in the profile). */
  send(message: RSerPoolMessage): void {
    const bytes = encodeMessage(message, { profile: this.profile });
    this.recordWire("sent", message, bytes);
    this.connection?.send(this.ppid, bytes);
  }

  /** Sends bytes as they are (malformed input on purpose). */
  sendRaw(bytes: Uint8Array, note = "raw bytes"): void {
    const c = this.connection;
    this.recorder.record(this.name, "sent", { raw: toHex(bytes), note }, {
      ppid: this.ppid,
      bytes,
      local: c?.local ?? { address: "127.0.0.1", port: 0 },
      remote: c?.remote ?? { address: "127.0.0.1", port: 0 },
    });
    if (c?.open) c.send(this.ppid, bytes);
  }

  /** Answers the target's Endpoint Keep-Alives for a pool on behalf of these elements. */
  answerKeepAlives(poolHandle: Uint8Array, ...ids: Identifier[]): void {
    const key = toHex(poolHandle);
    this.keepAliveAnswers.set(key, [...(this.keepAliveAnswers.get(key) ?? []), ...ids]);
  }

  /** Stops answering keep-alives for a pool (the elements fall silent). */
  stopAnsweringKeepAlives(poolHandle: Uint8Array): void {
    this.keepAliveAnswers.delete(toHex(poolHandle));
  }

  /**
   * Waits for the first queued or arriving message that `match` accepts,
   * and takes it from the inbox. Throws {@link ExpectationFailure}.
   */
  async expect<T extends Arrival>(
    match: (m: Arrival) => m is T,
    what: string,
    timeoutMs: number,
  ): Promise<T>;
  /** Waits for the first message `match` accepts (any arrival type). */
  async expect(match: (m: Arrival) => boolean, what: string, timeoutMs: number): Promise<Arrival>;
  /** Implementation of the overloads. */
  async expect(match: (m: Arrival) => boolean, what: string, timeoutMs: number): Promise<Arrival> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(match);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      const left = deadline - performance.now();
      if (left <= 0 || (this.isClosed && this.inbox.every((m) => !match(m)))) {
        const got = this.inbox.length === 0
          ? (this.isClosed ? "the connection was closed" : `nothing within ${timeoutMs} ms`)
          : this.inbox.map(describe).join(", ") +
            (this.isClosed ? ", then the connection closed" : "");
        throw new ExpectationFailure(what, got);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for a message of a type. */
  expectType<K extends Arrival["type"]>(
    type: K,
    timeoutMs: number,
    what = type as string,
    where: (m: Extract<Arrival, { type: K }>) => boolean = () => true,
  ): Promise<Extract<Arrival, { type: K }>> {
    return this.expect(
      (m): m is Extract<Arrival, { type: K }> =>
        m.type === type && where(m as Extract<Arrival, { type: K }>),
      what,
      timeoutMs,
    );
  }

  /** Passes when nothing `match` accepts arrives within `ms`; returns what did arrive. */
  async expectNothing(match: (m: Arrival) => boolean, what: string, ms: number): Promise<void> {
    try {
      const m = await this.expect(match, what, ms);
      throw new ExpectationFailure(`no ${what}`, describe(m));
    } catch (e) {
      if (e instanceof ExpectationFailure && e.expected === what) return;
      throw e;
    }
  }

  /** Waits until the connection is closed (true) or `ms` pass (false). */
  async waitClosed(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!this.isClosed) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Closes the connection (gracefully, or with an abort). */
  close(abort = false): void {
    if (abort) this.connection?.abort();
    else this.connection?.close();
  }
}

/** Narrowing helpers for expectations. */
export const is = {
  /** An ASAP message of a type. */
  asap<K extends AsapMessage["type"]>(type: K) {
    return (m: Arrival): m is Extract<AsapMessage, { type: K }> => m.type === type;
  },
  /** An ENRP message of a type. */
  enrp<K extends EnrpMessage["type"]>(type: K) {
    return (m: Arrival): m is Extract<EnrpMessage, { type: K }> => m.type === type;
  },
};
