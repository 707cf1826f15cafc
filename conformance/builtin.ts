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
import type { ElementDriver, UserDriver } from "./context.ts";
import { ALL_FEATURES, type Feature, type TargetTimers } from "./types.ts";

/** The built-in registrar's timers (and what the suite is told about them). */
export const BUILTIN_TIMERS: TargetTimers = Object.freeze({
  keepAliveInterval: 500,
  keepAliveTimeout: 500,
  peerHeartbeatCycle: 400,
  maxTimeLastHeard: 1200,
  maxTimeNoResponse: 500,
  maxBadPeReports: 3,
  handleTablePage: 32,
  slack: 1000,
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
  const registrar = await startRegistrar({
    transports: options.sctp === undefined ? undefined : { SCTP: options.sctp },
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    profile,
    timers: {
      keepAliveInterval: t.keepAliveInterval,
      keepAliveTimeout: t.keepAliveTimeout,
      peerHeartbeatCycle: t.peerHeartbeatCycle,
      maxTimeLastHeard: t.maxTimeLastHeard,
      maxTimeNoResponse: t.maxTimeNoResponse,
      mentorHuntTimeout: 200,
      takeoverExpiry: 2000,
    },
    maxHandleTableItems: t.handleTablePage,
    maxBadPoolElementReports: t.maxBadPeReports,
  });
  const element: ElementDriver = {
    async start({ registrars, pool }) {
      const pe = await registerPoolElement({
        poolHandle: pool,
        registrars,
        profile,
        reregistrationInterval: 1000,
        timers: { registrationTimeout: 1000, connectTimeout: 1000, huntRetry: 200 },
        serve: echoService(),
      });
      return { stop: () => pe.close(), kill: () => pe.abort() };
    },
  };
  const user: UserDriver = {
    async start({ registrar: at, pool }) {
      const pu = await createPoolUser({
        registrars: [at],
        profile,
        timers: { requestTimeout: 2000, connectTimeout: 1000, huntRetry: 200 },
      });
      let session: UserSession | undefined;
      const pending: string[] = [];
      pu.connect(pool, {}, { timeout: 60_000 }).then((s) => {
        session = s;
        for (const line of pending.splice(0)) s.send(line);
      }, () => {});
      return {
        send(line: string) {
          if (session === undefined) pending.push(line + "\n");
          else session.send(line + "\n");
        },
        stop: () => pu.close(),
        kill: () => pu.close(),
      };
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
    stop: () => registrar.stop(),
  };
}
