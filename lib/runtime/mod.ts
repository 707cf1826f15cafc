/**
 * The roles on the network: a running Pool Registrar, Pool Elements around
 * an application's session handler, and Pool Users with failover, over TCP
 * (optionally TLS) and UDP multicast, on Deno, Node and Bun.
 *
 * ```ts ignore
 * import {
 *   createPoolUser,
 *   echoService,
 *   registerPoolElement,
 *   startRegistrar,
 * } from "@rserpool/rserpool/runtime";
 *
 * const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
 * const registrars = [`127.0.0.1:${pr.asap.port}`];
 * const pe = await registerPoolElement({ poolHandle: "echo", registrars, serve: echoService() });
 * await pe.registered();
 * const pu = await createPoolUser({ registrars });
 * const session = await pu.connect("echo", { data: (b) => console.log(new TextDecoder().decode(b)) });
 * session.send("hello");
 * ```
 *
 * @module
 */

export {
  type AuthorizationPolicy,
  type AuthorizationRule,
  authorizeRegistrations,
} from "./authorize.ts";
export { type DriverCounters, monotonicNow, RoleDriver, type RoleDriverOptions } from "./driver.ts";
export {
  advertisedAddresses,
  type Endpoint,
  formatEndpoint,
  isWildcard,
  parseEndpoint,
  sctpTransport,
  tcpTransport,
  transportParameter,
} from "./endpoint.ts";
export {
  type ElementSession,
  type ElementSessionHandlers,
  registerPoolElement,
  type RegisterPoolElementOptions,
  type RunningPoolElement,
} from "./element.ts";
export {
  jsonLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
  textLogger,
} from "./log.ts";
export type { RegistrarApiOptions } from "./api.ts";
export {
  forwardClient,
  type ForwardCounts,
  type ForwardOptions,
  forwardSockets,
  proxyV2Header,
} from "./forward.ts";
export {
  formatHealthCheck,
  type HealthCheck,
  HealthState,
  type HealthWatch,
  parseHealthCheck,
  probeHealth,
  watchHealth,
  type WatchHealthOptions,
} from "./health.ts";
export {
  type ProxyElementCounts,
  type ProxyElementOptions,
  type RunningProxyElement,
  startProxyElement,
} from "./proxy_element.ts";
export {
  type ProxyCounts,
  type ProxyOptions,
  type RunningProxy,
  startProxy,
} from "./proxy_user.ts";
export { type RunningRegistrar, startRegistrar, type StartRegistrarOptions } from "./registrar.ts";
export { daytimeService, echoCookie, echoService, readEchoCookie } from "./services.ts";
export {
  formatIdentifier,
  formatTransport,
  type PoolSnapshot,
  type RegistrarCounters,
  type RegistrarSnapshot,
  serveStatus,
  type StatusServer,
} from "./status.ts";
export {
  createPoolUser,
  type CreatePoolUserOptions,
  type RunningPoolUser,
  type UserSession,
  type UserSessionHandlers,
} from "./user.ts";
export type { Role } from "../role/role.ts";
