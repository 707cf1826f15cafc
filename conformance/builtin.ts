/**
 * The built-in targets: this library's registrar, pool element and pool
 * user, started in-process with short timers, so that `deno task
 * conformance` is an end-to-end test of the library itself.
 *
 * @module
 */

import { registerPoolElement } from "../lib/runtime/element.ts";
import type { Endpoint } from "../lib/runtime/endpoint.ts";
import { startRegistrar } from "../lib/runtime/registrar.ts";
import { echoService } from "../lib/runtime/services.ts";
import { createPoolUser, type UserSession } from "../lib/runtime/user.ts";
import type { MessageTransport } from "../lib/transport/types.ts";
import type { UdpChannelSettings } from "../lib/transport/udp.ts";
import type { ElementDriver, RegistrarDriver, UserDriver } from "./context.ts";
import { ALL_FEATURES, type Feature, type TargetTimers } from "./types.ts";

/** The built-in registrar's timers (and what the suite is told about them). */
export const BUILTIN_TIMERS: TargetTimers = Object.freeze({
  // A keep-alive timeout shorter than the interval: a Keep-Alive Ack that did
  // not stop the removal timer would show (the next keep-alive comes too late).
  keepAliveInterval: 600,
  keepAliveTimeout: 300,
  peerHeartbeatCycle: 400,
  maxTimeLastHeard: 1200,
  maxTimeNoResponse: 500,
  takeoverExpiry: 2000,
  mentorHuntTimeout: 2000,
  // Not the registrar's defaults (3 and 3): a target that ignored its
  // configuration would show.
  maxBadPeReports: 4,
  // 64: a page of the large-elements case (about 1.3 KB each) exceeds 64 KiB.
  handleTablePage: 64,
  handleResolutionItems: 4,
  maxIncrement: 0,
  serverAnnounceCycle: 300,
  registrationTimeout: 700,
  maxRegistrationAttempts: 2,
  connectTimeout: 1000,
  requestTimeout: 700,
  maxRequestRetransmit: 2,
  staleCache: 1500,
  slack: 600,
});

/** Built-in targets, running. */
export interface BuiltinTargets {
  /** The registrar's ASAP endpoint. */
  readonly asap: Endpoint;
  /** The registrar's ENRP endpoint. */
  readonly enrp: Endpoint;
  /** Its timers. */
  readonly timers: TargetTimers;
  /** Everything it implements. */
  readonly features: readonly Feature[];
  /** Starts pool elements. */
  readonly element: ElementDriver;
  /** Starts pool users. */
  readonly user: UserDriver;
  /** Starts more registrars (start-up cases). */
  readonly registrar: RegistrarDriver;
  /** Where the registrar sends its Server Announces. */
  readonly announce: UdpChannelSettings;
  /** The registrar's SCTP endpoints, when it has an SCTP transport. */
  readonly sctp?: { readonly asap: Endpoint; readonly enrp: Endpoint };
  /** Stops the registrar. */
  stop(): Promise<void>;
}

/**
 * Starts the built-in registrar and returns drivers for the built-in element
 * and user. With an SCTP transport the registrar listens on SCTP too (its
 * endpoints are in `sctp`).
 */
export async function startBuiltinTargets(
  profile: "rfc" | "nextgen" = "rfc",
  options: { readonly sctp?: MessageTransport } = {},
): Promise<BuiltinTargets> {
  const t = BUILTIN_TIMERS;
  // The main registrar announces itself on a group and port of its own (loopback only).
  const announce: UdpChannelSettings = {
    group: "239.255.77.2",
    port: 20000 + Math.floor(Math.random() * 20000),
    interface: "127.0.0.1",
    ttl: 1,
  };
  const registrarOptions = (
    peers: Endpoint[] = [],
    announces?: UdpChannelSettings,
    presence?: UdpChannelSettings,
  ) => ({
    transports: options.sctp === undefined ? undefined : { SCTP: options.sctp },
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    peers,
    profile,
    ...(announces === undefined ? {} : { announce: announces }),
    ...(presence === undefined ? {} : { presence }),
    timers: {
      serverAnnounceCycle: t.serverAnnounceCycle,
      keepAliveInterval: t.keepAliveInterval,
      keepAliveTimeout: t.keepAliveTimeout,
      peerHeartbeatCycle: t.peerHeartbeatCycle,
      maxTimeLastHeard: t.maxTimeLastHeard,
      maxTimeNoResponse: t.maxTimeNoResponse,
      mentorHuntTimeout: t.mentorHuntTimeout,
      takeoverExpiry: t.takeoverExpiry,
    },
    maxHandleTableItems: t.handleTablePage,
    maxBadPoolElementReports: t.maxBadPeReports,
    defaultHandleResolutionItems: t.handleResolutionItems,
  });
  const registrar = await startRegistrar(registrarOptions([], announce));
  const element: ElementDriver = {
    choosesPolicy: true,
    hearsAnnounces: true,
    async start({ registrars, pool, policy, announce: heard }) {
      const pe = await registerPoolElement({
        poolHandle: pool,
        registrars,
        ...(heard === undefined ? {} : { announce: heard }),
        profile,
        policy,
        reregistrationInterval: 1000,
        timers: {
          registrationTimeout: t.registrationTimeout,
          connectTimeout: t.connectTimeout,
          huntRetry: 200,
        },
        maxRegistrationAttempts: t.maxRegistrationAttempts,
        serve: echoService(),
      });
      return {
        stop: () => pe.close(),
        kill: () => pe.abort(),
        updatePolicy: (p) => pe.updatePolicy(p),
      };
    },
  };
  const user: UserDriver = {
    severalRegistrars: true,
    hearsAnnounces: true,
    async start({ registrars, pool, announce: heard }) {
      const pu = await createPoolUser({
        registrars,
        ...(heard === undefined ? {} : { announce: heard }),
        profile,
        timers: {
          requestTimeout: t.requestTimeout,
          staleCache: t.staleCache,
          connectTimeout: t.connectTimeout,
          huntRetry: 200,
        },
        maxRequestRetransmit: t.maxRequestRetransmit,
      });
      const sessions: UserSession[] = [];
      const open = (first: string | undefined) => {
        const pending: string[] = first === undefined ? [] : [first + "\n"];
        let session: UserSession | undefined;
        pu.connect(pool, {}, { timeout: 60_000 }).then((s) => {
          session = s;
          sessions.push(s);
          // The case may have ended (and closed the user) before the session came up.
          try {
            for (const line of pending.splice(0)) s.send(line);
          } catch { /* closed meanwhile */ }
        }, () => {});
        return (line: string) => {
          if (session === undefined) pending.push(line + "\n");
          else session.send(line + "\n");
        };
      };
      const send = open(undefined);
      return {
        send,
        openSession: (line: string) => void open(line),
        stop: () => pu.close(),
        kill: () => pu.close(),
      };
    },
  };
  const registrars: RegistrarDriver = {
    multicastPresence: true,
    async start({ peers, presence }) {
      const r = await startRegistrar(registrarOptions(peers, undefined, presence));
      return { asap: r.asap, enrp: r.enrp, stop: () => r.stop() };
    },
  };
  return {
    sctp: registrar.sctp,
    asap: registrar.asap,
    enrp: registrar.enrp,
    timers: t,
    features: ALL_FEATURES,
    element,
    user,
    registrar: registrars,
    announce,
    stop: () => registrar.stop(),
  };
}
