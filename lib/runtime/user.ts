/**
 * A running Pool User: the sans-IO {@link PoolUser} on real sockets.
 * Resolves pool handles, and opens sessions that fail over to another
 * element, handing it the last cookie, when theirs fails.
 *
 * ```ts ignore
 * import { createPoolUser } from "@rserpool/rserpool/runtime";
 *
 * const pu = await createPoolUser({ registrars: ["127.0.0.1:3863"] });
 * const session = await pu.connect("echo", {
 *   data: (bytes) => console.log(new TextDecoder().decode(bytes)),
 *   failover: ({ element }) => console.log("now talking to", element.identifier),
 * });
 * session.send("hello\n");
 * ```
 *
 * @module
 */

import { RSerPoolError, TransportError } from "../errors.ts";
import { ERROR_CAUSE_NAMES, Port } from "../protocol/constants.ts";
import { bytesToJson } from "../protocol/json.ts";
import type { Identifier, PoolElementParameter, WireProfile } from "../protocol/types.ts";
import type { ConnectionId } from "../role/actions.ts";
import { PoolUser, type PoolUserEvent, type PoolUserOptions } from "../user/user.ts";
import { type StreamSettings, StreamTransport, type TlsSettings } from "../transport/tcp.ts";
import type { MessageTransport } from "../transport/types.ts";
import { UdpChannel, type UdpChannelSettings } from "../transport/udp.ts";
import { RoleDriver } from "./driver.ts";
import { type Endpoint, formatEndpoint, parseEndpoint, transportParameter } from "./endpoint.ts";
import { type Logger, silentLogger } from "./log.ts";
import { formatIdentifier, formatTransport } from "./status.ts";

/** What a pool user's application does with a session's events. */
export interface UserSessionHandlers {
  /** Application data from the element (without a control channel: stream chunks, PPID 0). */
  readonly data?: (data: Uint8Array, ppid: number) => void;
  /**
   * The session moved to another element after its element failed; the
   * last cookie, if any, was handed to the new one first. Data sent to the
   * failed element and not answered may be lost: send it again if needed.
   */
  readonly failover?: (info: { element: PoolElementParameter; reason: string }) => void;
  /** The session ended: closed by the application, or failed for good (the error says why). */
  readonly closed?: (error?: RSerPoolError) => void;
}

/** A session with a pool: one element at a time. */
export interface UserSession {
  /** Its id. */
  readonly id: string;
  /** The element it talks to (or last talked to). */
  readonly element: PoolElementParameter | undefined;
  /** Whether a connection to an element is up. */
  readonly up: boolean;
  /** How many times it failed over. */
  readonly failovers: number;
  /**
   * Sends application data (PPID 0 unless told). While the session fails
   * over, data is queued (up to `maxQueuedBytes`) and sent to the next
   * element after the cookie; beyond that, throws `congested`.
   */
  send(data: Uint8Array | string, ppid?: number): void;
  /** Closes the session. */
  close(): void;
}

/** Options of {@link createPoolUser}. */
export interface CreatePoolUserOptions {
  /** Registrars' ASAP endpoints (default `127.0.0.1:3863` unless `announce` is given). */
  readonly registrars?: readonly (string | Endpoint)[];
  /** Hear ASAP Server Announces on this UDP channel. */
  readonly announce?: UdpChannelSettings;
  /** Wire profile. */
  readonly profile?: WireProfile;
  /** Elements to ask for per resolution (default: the registrar decides). */
  readonly items?: number;
  /** Pool user timers. */
  readonly timers?: PoolUserOptions["timers"];
  /** Retransmissions of a handle resolution before hunting another registrar (MAX-REQUEST-RETRANSMIT, default 2). */
  readonly maxRequestRetransmit?: number;
  /** Give a session up after this many failovers in a row without reaching an element (default 5). */
  readonly maxFailovers?: number;
  /** Data queued per session while it fails over (default 1 MiB). */
  readonly maxQueuedBytes?: number;
  /** TLS on the connections to registrars. */
  readonly tls?: TlsSettings;
  /** Limits and timeouts of the TCP connections. */
  readonly stream?: Partial<StreamSettings>;
  /** Transports to use instead of TCP, by transport parameter type. */
  readonly transports?: Readonly<Partial<Record<"TCP" | "SCTP", MessageTransport>>>;
  /** What the user reports (default: nothing). */
  readonly log?: Logger;
  /** Every pool user event. */
  readonly onEvent?: (event: PoolUserEvent) => void;
}

/** A pool user on the network. */
export interface RunningPoolUser {
  /** The sans-IO pool user. */
  readonly user: PoolUser;
  /**
   * Resolves a pool handle into its elements (from the cache while fresh).
   * Rejects with `resolution-failed` (e.g. no such pool) or `timeout`
   * (default 10 s).
   */
  resolve(
    poolHandle: string | Uint8Array,
    options?: { timeout?: number },
  ): Promise<readonly PoolElementParameter[]>;
  /**
   * Chooses one element of a pool by the pool's policy (RFC 5356: the pool
   * user applies it to the elements it resolved), resolving first when the
   * cache has none. Rejects like {@link RunningPoolUser.resolve}, and with
   * `resolution-failed` when the pool has no element left to choose.
   *
   * ```ts ignore
   * const element = await pu.select("web");
   * // connect to element.userTransport; when that fails:
   * pu.reportUnreachable("web", element.identifier);
   * ```
   */
  select(
    poolHandle: string | Uint8Array,
    options?: { timeout?: number },
  ): Promise<PoolElementParameter>;
  /**
   * Reports an element this user could not reach (RFC 5352 §3.5): an ASAP
   * Endpoint Unreachable to the home registrar, and the element out of the
   * cache, so that the next {@link RunningPoolUser.select} chooses another.
   */
  reportUnreachable(poolHandle: string | Uint8Array, identifier: Identifier): void;
  /**
   * Opens a session with an element of the pool; resolves once connected.
   * Rejects when no element can be reached or after `timeout` (default 10 s).
   */
  connect(
    poolHandle: string | Uint8Array,
    handlers?: UserSessionHandlers,
    options?: { timeout?: number },
  ): Promise<UserSession>;
  /** Closes every session and connection. */
  close(): Promise<void>;
}

interface SessionRecord {
  readonly id: string;
  readonly handlers: UserSessionHandlers;
  queue: { ppid: number; bytes: Uint8Array }[];
  queued: number;
  failuresInRow: number;
  opened: boolean;
  done: boolean;
  onUp?: () => void;
  onFail?: (e: RSerPoolError) => void;
}

function handleBytes(handle: string | Uint8Array): Uint8Array {
  const bytes = typeof handle === "string" ? new TextEncoder().encode(handle) : handle;
  if (bytes.length === 0) throw new RSerPoolError("bad-option", "the pool handle is empty");
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function causesText(causes: readonly { code: number }[]): string {
  return causes.map((c) => ERROR_CAUSE_NAMES.get(c.code) ?? `cause 0x${c.code.toString(16)}`)
    .join(", ") || "no element";
}

/** Starts a pool user: hunts for a registrar and is ready to resolve and connect. */
export async function createPoolUser(
  options: CreatePoolUserOptions = {},
): Promise<RunningPoolUser> {
  const profile: WireProfile = options.profile ?? "rfc";
  const log = options.log ?? silentLogger;
  const defaultPort = profile === "nextgen" ? Port.AsapNextGen : Port.Asap;
  const registrars = (options.registrars ??
    (options.announce === undefined ? ["127.0.0.1"] : []))
    .map((r) => typeof r === "string" ? parseEndpoint(r, { port: defaultPort }) : r);
  const maxFailovers = options.maxFailovers ?? 5;
  const maxQueued = options.maxQueuedBytes ?? 1 << 20;
  // Sessions may stay quiet as long as the application likes: no idle timeout unless asked for
  // (dead peers are still found by TCP keep-alive probes; registrars close idle users themselves).
  const stream = { idleTimeout: 0, ...options.stream };
  const tcp = options.transports?.TCP ??
    new StreamTransport({ ...stream, tls: options.tls });
  const sessionTcp = options.tls === undefined ? tcp : new StreamTransport(stream);
  const user = new PoolUser({
    registrars: registrars.map((r) => transportParameter(r)),
    items: options.items,
    maxRequestRetransmit: options.maxRequestRetransmit,
    timers: options.timers,
    announceTransport: "TCP",
  });
  const records = new Map<string, SessionRecord>();
  const resolutions = new Set<{
    handle: Uint8Array;
    resolve: (e: readonly PoolElementParameter[]) => void;
    reject: (e: Error) => void;
  }>();

  const finish = (record: SessionRecord, error?: RSerPoolError) => {
    if (record.done) return;
    record.done = true;
    records.delete(record.id);
    d.run(() => user.closeSession(record.id));
    if (!record.opened && error !== undefined) record.onFail?.(error);
    try {
      record.handlers.closed?.(error);
    } catch (e) {
      log.error("session closed handler failed", { session: record.id, error: e as Error });
    }
  };

  const flushQueue = (record: SessionRecord) => {
    const state = user.session(record.id);
    const connection = state?.connection === undefined ? undefined : d.connection(state.connection);
    if (connection === undefined || !connection.open) return;
    for (const item of record.queue) connection.send(item.ppid, item.bytes);
    record.queue = [];
    record.queued = 0;
  };

  let outage = false;
  const onEvent = (event: PoolUserEvent) => {
    switch (event.kind) {
      case "resolved":
      case "resolution-failed": {
        outage = false;
        for (const r of [...resolutions]) {
          if (!sameBytes(r.handle, event.poolHandle)) continue;
          resolutions.delete(r);
          if (event.kind === "resolved") r.resolve(event.elements);
          else {
            r.reject(
              new RSerPoolError(
                "resolution-failed",
                `pool "${bytesToJson(event.poolHandle)}": ${causesText(event.causes)}`,
              ),
            );
          }
        }
        if (event.kind === "resolution-failed") {
          log.warn("resolution failed", {
            pool: bytesToJson(event.poolHandle),
            causes: causesText(event.causes),
          });
        } else {
          log.debug("resolved", {
            pool: bytesToJson(event.poolHandle),
            elements: event.elements.length,
          });
        }
        break;
      }
      case "registrar-lost":
        (outage ? log.debug : log.warn)("registrar lost, hunting for another");
        break;
      case "no-registrar":
        // Said once per outage; the hunt goes on quietly.
        (outage ? log.debug : log.warn)("no registrar reachable", {
          registrars: registrars.map(formatEndpoint).join(",") || undefined,
        });
        outage = true;
        break;
      case "session-connecting":
        log.debug("connecting", {
          session: event.session,
          element: formatIdentifier(event.element.identifier),
          at: formatTransport(event.element.userTransport),
        });
        break;
      case "session-up": {
        const record = records.get(event.session);
        if (record === undefined) break;
        record.failuresInRow = 0;
        log.info(event.failover ? "failed over" : "session up", {
          session: event.session,
          element: formatIdentifier(event.element.identifier),
          at: formatTransport(event.element.userTransport),
        });
        flushQueue(record);
        if (!record.opened) {
          record.opened = true;
          record.onUp?.();
        } else if (event.failover) {
          try {
            record.handlers.failover?.({
              element: event.element,
              reason: lastReason.get(record.id) ?? "element failed",
            });
          } catch (e) {
            log.error("failover handler failed", { session: record.id, error: e as Error });
          }
        }
        break;
      }
      case "session-failed": {
        const record = records.get(event.session);
        if (record === undefined) break;
        lastReason.set(record.id, event.reason);
        record.failuresInRow++;
        log.warn("session failed", { session: event.session, reason: event.reason });
        if (event.reason === "no pool element") {
          finish(record, new RSerPoolError("no-element", "no element of the pool can be reached"));
        } else if (record.failuresInRow > maxFailovers) {
          finish(
            record,
            new RSerPoolError(
              "no-element",
              `gave up after ${maxFailovers} failovers in a row (last: ${event.reason})`,
            ),
          );
        }
        break;
      }
    }
    try {
      options.onEvent?.(event);
    } catch (e) {
      log.error("event handler failed", { error: e as Error });
    }
  };
  const lastReason = new Map<string, string>();

  // Registrar connections (message framing) may use TLS; sessions go to elements over plain TCP.
  const tcpForBoth: MessageTransport = sessionTcp === tcp ? tcp : {
    kind: "TCP",
    listen: (o, a) => tcp.listen(o, a),
    connect: (o, h) => (o.framing === "message" ? tcp : sessionTcp).connect(o, h),
  };
  const d = new RoleDriver<PoolUserEvent>({
    role: user,
    profile,
    transports: { ...options.transports, TCP: tcpForBoth },
    onEvent,
    onSessionData: (connection: ConnectionId, ppid, payload) => {
      const state = user.sessionOf(connection);
      const record = state === undefined ? undefined : records.get(state.id);
      if (record === undefined) return;
      try {
        record.handlers.data?.(payload, ppid);
      } catch (e) {
        log.error("session data handler failed", { session: record.id, error: e as Error });
      }
    },
    log,
  });
  let channel: UdpChannel | undefined;
  if (options.announce !== undefined) {
    channel = await UdpChannel.open(
      options.announce,
      (bytes, source) => d.receiveDatagram("asap-announce", bytes, source),
    );
  }
  d.run((now) => user.start(now));

  const withTimeout = <T>(
    promise: Promise<T>,
    timeout: number,
    what: string,
    cancel: () => void,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        cancel();
        reject(new RSerPoolError("timeout", `${what} did not complete in ${timeout} ms`));
      }, timeout);
      promise.then((v) => {
        clearTimeout(timer);
        resolve(v);
      }, (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });

  let closed = false;
  return {
    user,
    resolve(poolHandle, resolveOptions = {}) {
      if (closed) return Promise.reject(new RSerPoolError("closed", "the pool user was closed"));
      const handle = handleBytes(poolHandle);
      let cached: readonly PoolElementParameter[] | undefined;
      d.run((now) => {
        cached = user.resolve(handle, now);
      });
      if (cached !== undefined) return Promise.resolve(cached);
      let entry: Parameters<typeof resolutions.add>[0] | undefined;
      const pending = new Promise<readonly PoolElementParameter[]>((resolve, reject) => {
        entry = { handle, resolve, reject };
        resolutions.add(entry);
      });
      return withTimeout(
        pending,
        resolveOptions.timeout ?? 10_000,
        `resolving "${bytesToJson(handle)}"`,
        () => resolutions.delete(entry!),
      );
    },
    async select(this: RunningPoolUser, poolHandle, selectOptions = {}) {
      const handle = handleBytes(poolHandle);
      const pick = () => {
        let chosen: PoolElementParameter | undefined;
        d.run((now) => {
          chosen = user.select(handle, now);
        });
        return chosen;
      };
      const cached = closed ? undefined : pick();
      if (cached !== undefined) return cached;
      await this.resolve(handle, selectOptions);
      const chosen = pick();
      if (chosen === undefined) {
        throw new RSerPoolError(
          "resolution-failed",
          `no element of "${bytesToJson(handle)}" left to choose`,
        );
      }
      return chosen;
    },
    reportUnreachable(poolHandle, identifier) {
      if (closed) return;
      const handle = handleBytes(poolHandle);
      d.run((now) => user.reportUnreachable(handle, identifier, now));
    },
    connect(poolHandle, handlers = {}, connectOptions = {}) {
      if (closed) return Promise.reject(new RSerPoolError("closed", "the pool user was closed"));
      const handle = handleBytes(poolHandle);
      let id = "";
      const opened = new Promise<void>((resolve, reject) => {
        d.run((now) => {
          id = user.openSession(handle, now);
          records.set(id, {
            id,
            handlers,
            queue: [],
            queued: 0,
            failuresInRow: 0,
            opened: false,
            done: false,
            onUp: resolve,
            onFail: reject,
          });
        });
      });
      const record = records.get(id);
      const session: UserSession = {
        id,
        get element() {
          return user.session(id)?.element;
        },
        get up() {
          return user.session(id)?.up ?? false;
        },
        get failovers() {
          return user.session(id)?.failovers ?? 0;
        },
        send(data, ppid = 0) {
          const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
          const r = records.get(id);
          if (r === undefined) throw new TransportError("closed", "the session is closed");
          const state = user.session(id);
          const connection = state?.up && state.connection !== undefined
            ? d.connection(state.connection)
            : undefined;
          if (connection !== undefined && connection.open && r.queue.length === 0) {
            connection.send(ppid, bytes);
            return;
          }
          if (r.queued + bytes.length > maxQueued) {
            throw new TransportError("congested", "too much data queued while failing over");
          }
          r.queue.push({ ppid, bytes });
          r.queued += bytes.length;
        },
        close() {
          const r = records.get(id);
          if (r !== undefined) finish(r);
        },
      };
      return withTimeout(
        opened,
        connectOptions.timeout ?? 10_000,
        `connecting to pool "${bytesToJson(handle)}"`,
        () => {
          if (record !== undefined && !record.opened) {
            record.onFail = undefined;
            finish(record, new RSerPoolError("timeout", "no element reached in time"));
          }
        },
      ).then(() => session);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const record of [...records.values()]) finish(record);
      for (const r of resolutions) {
        r.reject(new RSerPoolError("closed", "the pool user was closed"));
      }
      resolutions.clear();
      d.stop(true);
      await channel?.close();
    },
  };
}
