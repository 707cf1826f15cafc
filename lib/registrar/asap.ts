/**
 * The registrar's side of ASAP (RFC 5352): registration, deregistration,
 * handle resolution, endpoint keep-alive and unreachable reports, and the
 * Home-flag keep-alives of takeover and takeover suggestion.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { PoolElementNode } from "../handlespace/node.ts";
import {
  ErrorCauseCode,
  HANDLE_RESOLUTION_ITEMS_MAX,
  TransportUse,
  UpdateAction,
} from "../protocol/constants.ts";
import type {
  AsapMessage,
  Deregistration,
  EndpointKeepAliveAck,
  EndpointUnreachable,
  ErrorCause,
  HandleResolution,
  HandleResolutionResponse,
  Identifier,
  PoolElementParameter,
  Registration,
  TransportParameter,
} from "../protocol/types.ts";
import type { RemoteEndpoint } from "../role/actions.ts";
import type { RemovalReason } from "./options.ts";
import { rttSample, withDistance } from "./distance.ts";
import { type Connection, fitsInMessage, RateLimit, type RegistrarState } from "./state.ts";

/** A Pool Element as sent to pool users (without the ASAP Transport). */
export function forUsers(node: PoolElementNode): PoolElementParameter {
  return {
    identifier: node.identifier,
    homeRegistrarId: node.homeRegistrarId,
    registrationLife: node.registrationLife,
    userTransport: node.userTransport,
    policy: node.policy,
  };
}

/**
 * The ASAP transport of an element registering over a connection (RFC 5352
 * §3.1 step 5): the connection's remote end. Over TCP that end is an
 * ephemeral client port nobody can connect to, so the element's ASAP
 * endpoint is its User Transport when that carries control messages (DATA
 * PLUS CONTROL: registrars reach it there, over TCP with session framing,
 * over SCTP as on any association), and the
 * remote end otherwise, as on SCTP: peers (RSPLIB's above all) require an
 * ASAP Transport in every Handle Update (docs/transports.md).
 */
function asapTransportOf(
  connection: Connection,
  element: PoolElementParameter,
): TransportParameter | undefined {
  const remote = connection.remote;
  if (remote === undefined) return undefined;
  const user = element.userTransport;
  if (
    remote.transport === "TCP" && (user.type === "TCP" || user.type === "SCTP") &&
    user.transportUse === TransportUse.DataPlusControl
  ) {
    // Over SCTP the Transport Use of an ASAP endpoint means nothing, and RSPLIB
    // refuses one with the control-channel flag ("invalid registrator"); over TCP
    // it tells peers to use session framing there.
    return user.type === "SCTP" ? { ...user, transportUse: TransportUse.DataOnly } : user;
  }
  return {
    type: remote.transport ?? "SCTP",
    port: remote.port,
    transportUse: 0,
    addresses: remote.addresses ?? [remote.address],
  } as TransportParameter;
}

/** Sends an ENRP_HANDLE_UPDATE about an element this registrar owns to every peer (RFC 5353 §3.3). */
export function announceUpdate(
  s: RegistrarState,
  node: PoolElementNode,
  action: number,
  only?: { peer: PoolElementNode["homeRegistrarId"]; takeoverSuggested: boolean },
): void {
  const poolElement = node.toPoolElement();
  for (const peer of s.connectedPeers()) {
    if (only !== undefined && peer.id !== only.peer) continue;
    s.send(peer.connection!, {
      type: "HandleUpdate",
      takeoverSuggested: only?.takeoverSuggested ?? false,
      sendingRegistrarId: s.id,
      receivingRegistrarId: peer.id,
      updateAction: action,
      poolHandle: node.poolHandle,
      poolElement,
    });
  }
}

/** Removes an element, telling peers when this registrar owned it. */
export function removeElement(
  s: RegistrarState,
  node: PoolElementNode,
  reason: RemovalReason,
): void {
  const owned = node.homeRegistrarId === s.id;
  s.handlespace.remove(node);
  s.keepAlives.cancel(node);
  s.keepAliveDeadlines.cancel(node);
  if (owned) announceUpdate(s, node, UpdateAction.DeletePoolElement);
  s.emit({ kind: "removed", node, reason });
}

/** Re-arms the registration-expiry task. */
export function scheduleExpiry(s: RegistrarState): void {
  const next = s.handlespace.nextExpiry();
  if (next === undefined) s.tasks.cancel("expiry");
  else s.tasks.set("expiry", next);
}

/** Handles an ASAP message from a connection. */
export function onAsap(
  s: RegistrarState,
  connection: Connection,
  m: AsapMessage,
  raw?: Uint8Array,
): void {
  switch (m.type) {
    case "Registration":
      return register(s, connection, m);
    case "Deregistration":
      return deregister(s, connection, m);
    case "HandleResolution":
      return resolve(s, connection, m);
    case "EndpointKeepAliveAck":
      return keepAliveAck(s, m);
    case "EndpointUnreachable":
      return unreachable(s, connection, m);
    case "AsapError":
      s.emit({
        kind: "protocol-error",
        connection: connection.id,
        detail: `ASAP Error from the peer: causes ${
          m.operationError.map((c) => c.code).join(", ")
        }`,
      });
      return;
    default:
      // A message a registrar never receives: answer with an Operation Error (never to an error).
      s.send(connection.id, {
        type: "AsapError",
        operationError: [{ code: ErrorCauseCode.UnspecifiedError, info: raw ?? new Uint8Array() }],
      });
      s.emit({ kind: "protocol-error", connection: connection.id, detail: `unexpected ${m.type}` });
  }
}

function refuse(
  s: RegistrarState,
  connection: Connection,
  m: Registration,
  error: ProtocolError,
): void {
  const cause: ErrorCause = { code: error.errorCause, info: error.errorInfo };
  s.send(connection.id, {
    type: "RegistrationResponse",
    reject: true,
    poolHandle: m.poolHandle,
    poolElementId: m.poolElement.identifier,
    operationError: [cause],
  });
  s.emit({
    kind: "registration-refused",
    connection: connection.id,
    poolHandle: m.poolHandle,
    error,
  });
}

/** ASAP_REGISTRATION at the registrar (RFC 5352 §3.1, "PR side"). */
function register(s: RegistrarState, connection: Connection, m: Registration): void {
  const authorize = s.options.authorize;
  if (authorize !== undefined) {
    const verdict = authorize({
      poolHandle: m.poolHandle,
      poolElement: m.poolElement,
      connection: connection.id,
      remote: connection.remote,
      identity: connection.identity,
    });
    if (verdict !== true) {
      refuse(
        s,
        connection,
        m,
        verdict === false
          ? new ProtocolError(
            "unauthorized",
            ErrorCauseCode.RejectedDueToSecurity,
            "registration not authorized",
          )
          : verdict,
      );
      return;
    }
  }
  let result;
  try {
    result = s.handlespace.register(
      m.poolHandle,
      withDistance(s, m.poolElement, connection, false),
      {
        now: s.now,
        homeRegistrarId: s.id,
        connection: connection.id,
        asapTransport: asapTransportOf(connection, m.poolElement),
      },
    );
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    refuse(s, connection, m, e);
    return;
  }
  const node = result.node;
  s.send(connection.id, {
    type: "RegistrationResponse",
    reject: false,
    poolHandle: m.poolHandle,
    poolElementId: node.identifier,
  });
  admitted(s, node, result.added);
}

/** What follows an accepted registration: peers told, supervision restarted, expiry re-armed. */
function admitted(s: RegistrarState, node: PoolElementNode, added: boolean): void {
  announceUpdate(s, node, UpdateAction.AddPoolElement);
  // A registration proves the element alive, as a Keep-Alive Ack does: restart supervision.
  s.keepAliveDeadlines.cancel(node);
  s.keepAlives.set(node, s.now + s.timers.keepAliveInterval);
  scheduleExpiry(s);
  s.emit({ kind: "registered", node, added });
  const suggest = s.options.suggestTakeover;
  if (suggest !== undefined) {
    const peer = suggest(node, s.connectedPeers().map((p) => p.id));
    if (peer !== undefined) {
      announceUpdate(s, node, UpdateAction.AddPoolElement, { peer, takeoverSuggested: true });
    }
  }
}

/**
 * A registration on behalf of a program without ASAP (the registrar's HTTP
 * API): the same admission as an ASAP registration (authorization, the
 * pool's rules, peers told by Handle Update), but without a connection, so
 * without keep-alives: the element stays for its registration life, which
 * a repeated registration renews. Throws {@link ProtocolError} when refused.
 */
export function registerOnBehalf(
  s: RegistrarState,
  poolHandle: Uint8Array,
  element: PoolElementParameter,
  requester: { readonly remote?: RemoteEndpoint; readonly identity?: string },
): PoolElementNode {
  const authorize = s.options.authorize;
  if (authorize !== undefined) {
    const verdict = authorize({
      poolHandle,
      poolElement: element,
      connection: ON_BEHALF,
      remote: requester.remote,
      identity: requester.identity,
    });
    if (verdict !== true) {
      throw verdict === false
        ? new ProtocolError(
          "unauthorized",
          ErrorCauseCode.RejectedDueToSecurity,
          "registration not authorized",
        )
        : verdict;
    }
  }
  const existing = s.handlespace.pool(poolHandle)?.elements.get(element.identifier);
  if (existing !== undefined && existing.connection !== undefined) {
    throw new ProtocolError(
      "non-unique-identifier",
      ErrorCauseCode.NonUniquePoolElementIdentifier,
      "identifier registered over ASAP",
    );
  }
  const result = s.handlespace.register(poolHandle, element, {
    now: s.now,
    homeRegistrarId: s.id,
    // Peers (RSPLIB's above all) want an ASAP Transport: the element's own transport.
    asapTransport: element.asapTransport ?? element.userTransport,
  });
  admitted(s, result.node, result.added);
  return result.node;
}

/** Ends a registration made on behalf of a program (see {@link registerOnBehalf}); false if there is none. */
export function deregisterOnBehalf(
  s: RegistrarState,
  poolHandle: Uint8Array,
  identifier: Identifier,
): boolean {
  const node = s.handlespace.pool(poolHandle)?.elements.get(identifier);
  if (node === undefined || node.homeRegistrarId !== s.id || node.connection !== undefined) {
    return false;
  }
  removeElement(s, node, "deregistered");
  scheduleExpiry(s);
  return true;
}

/** The connection id authorization hooks see for registrations on behalf of a program. */
export const ON_BEHALF = "api";

/** ASAP_DEREGISTRATION at the registrar (RFC 5352 §3.2). */
function deregister(s: RegistrarState, connection: Connection, m: Deregistration): void {
  const node = s.handlespace.pool(m.poolHandle)?.elements.get(m.poolElementId);
  if (node !== undefined) {
    // "De-registration is NOT allowed by proxy" (RFC 5352 §2.2.2): only over the
    // connection the element registered over; an element another registrar is home
    // of (learnt over ENRP) has none here, and its home deregisters it.
    const foreign = node.connection === undefined
      ? node.homeRegistrarId !== s.id
      : node.connection !== connection.id;
    if (foreign) {
      s.send(connection.id, {
        type: "DeregistrationResponse",
        poolHandle: m.poolHandle,
        poolElementId: m.poolElementId,
        operationError: [{ code: ErrorCauseCode.RejectedDueToSecurity, info: new Uint8Array() }],
      });
      return;
    }
    removeElement(s, node, "deregistered");
    scheduleExpiry(s);
  }
  // An element (or pool) this registrar does not know is deregistered already: granted
  // without an Operational Error, which would mean a refusal (RFC 5352 §3.2).
  s.send(connection.id, {
    type: "DeregistrationResponse",
    poolHandle: m.poolHandle,
    poolElementId: m.poolElementId,
  });
}

/** ASAP_HANDLE_RESOLUTION at the registrar (RFC 5352 §3.3; Handle Resolution Option draft). */
function resolve(s: RegistrarState, connection: Connection, m: HandleResolution): void {
  const rate = s.options.maxHandleResolutionRate;
  if (rate !== undefined) {
    connection.handleResolutions ??= new RateLimit(rate);
    if (!connection.handleResolutions.take(s.now)) {
      s.send(connection.id, {
        type: "HandleResolutionResponse",
        poolHandle: m.poolHandle,
        poolElements: [],
        operationError: [{ code: ErrorCauseCode.LackOfResources, info: new Uint8Array() }],
      });
      s.emit({ kind: "rate-limited", connection: connection.id, what: "handle resolution" });
      return;
    }
  }
  const max = s.options.maxHandleResolutionItems ?? 128;
  const wanted = m.items === undefined || m.items === 0
    ? (s.options.defaultHandleResolutionItems ?? 3)
    : m.items === HANDLE_RESOLUTION_ITEMS_MAX
    ? max
    : m.items;
  const pool = s.handlespace.pool(m.poolHandle);
  if (pool === undefined) {
    s.send(connection.id, {
      type: "HandleResolutionResponse",
      poolHandle: m.poolHandle,
      poolElements: [],
      operationError: [{ code: ErrorCauseCode.UnknownPoolHandle, info: new Uint8Array() }],
    });
    return;
  }
  const nodes = s.handlespace.resolve(m.poolHandle, Math.min(wanted, max));
  // RSPLIB requires the Policy parameter on success; it carries the first element's values.
  const first = nodes[0] ?? pool.elements.values().next().value!;
  const response: HandleResolutionResponse = {
    type: "HandleResolutionResponse",
    poolHandle: m.poolHandle,
    policy: first.policy,
    poolElements: nodes.map(forUsers),
  };
  s.send(connection.id, fittingResponse(s, response));
}

/**
 * Whether a response certainly fits into one message, by an upper bound of
 * its size (every parameter at its largest: 64-bit identifiers, the longest
 * policy, 20 bytes per address), so that the usual answer of a few small
 * elements is not encoded once more just to measure it.
 */
function surelyFits(response: HandleResolutionResponse): boolean {
  let bound = 64 + response.poolHandle.length + policyData(response.policy);
  for (const e of response.poolElements) {
    bound += 96 + 20 * e.userTransport.addresses.length + policyData(e.policy);
    if (bound > 0xffff) return false;
  }
  return true;
}

/** The bytes an unknown policy carries beyond what the bound allows for any known one. */
function policyData(policy: PoolElementParameter["policy"] | undefined): number {
  return policy?.type === "Unknown" ? policy.data.length + 3 : 0;
}

/**
 * A Handle Resolution Response cut to the elements that fit into one message
 * (its 16-bit length): large elements (many addresses) asked for by the
 * hundred would not; the first ones, in the policy's order, are kept.
 */
function fittingResponse(
  s: RegistrarState,
  response: HandleResolutionResponse,
): HandleResolutionResponse {
  if (surelyFits(response) || fitsInMessage(s, response)) return response;
  let fits = 1; // one element always fits: it came in a message of its own
  let over = response.poolElements.length;
  while (over - fits > 1) {
    const middle = (fits + over) >>> 1;
    const cut = { ...response, poolElements: response.poolElements.slice(0, middle) };
    if (fitsInMessage(s, cut)) fits = middle;
    else over = middle;
  }
  return { ...response, poolElements: response.poolElements.slice(0, fits) };
}

/** ASAP_ENDPOINT_KEEP_ALIVE_ACK: the element is alive (RFC 5352 §3.4). */
function keepAliveAck(s: RegistrarState, m: EndpointKeepAliveAck): void {
  const node = s.handlespace.find(m.poolHandle, m.poolElementId);
  if (node === undefined || node.homeRegistrarId !== s.id) return;
  s.keepAliveDeadlines.cancel(node);
  node.lastKeepAlive = s.now;
  if (node.keepAliveSentAt !== undefined && typeof node.connection === "string") {
    rttSample(s.connections.get(node.connection), s.now - node.keepAliveSentAt);
  }
  node.keepAliveSentAt = undefined;
  s.keepAlives.set(node, s.now + s.timers.keepAliveInterval);
}

/** ASAP_ENDPOINT_UNREACHABLE (RFC 5352 §3.5, RFC 5353 §3.4): count, and remove at MAX-BAD-PE-REPORT. */
function unreachable(s: RegistrarState, connection: Connection, m: EndpointUnreachable): void {
  const rate = s.options.maxEndpointUnreachableRate;
  if (rate !== undefined) {
    connection.unreachableReports ??= new RateLimit(rate);
    if (!connection.unreachableReports.take(s.now)) {
      s.emit({ kind: "rate-limited", connection: connection.id, what: "endpoint unreachable" });
      return;
    }
  }
  const node = s.handlespace.find(m.poolHandle, m.poolElementId);
  if (node === undefined) return;
  node.unreachableReports++;
  if (node.unreachableReports >= (s.options.maxBadPoolElementReports ?? 3)) {
    removeElement(s, node, "unreachable");
    scheduleExpiry(s);
    return;
  }
  // Check on it at once (RFC 5352 §3.5): an element that does not answer is removed.
  if (node.homeRegistrarId === s.id && !s.keepAliveDeadlines.has(node)) keepAliveDue(s, node);
}

/** A keep-alive is due: send it, or remove an element whose connection is gone. */
export function keepAliveDue(s: RegistrarState, node: PoolElementNode): void {
  if (node.pool.elements.get(node.identifier) !== node || node.homeRegistrarId !== s.id) return;
  const connection = typeof node.connection === "string"
    ? s.connections.get(node.connection)
    : undefined;
  if (connection === undefined || !connection.up) return; // its connection's loss removes it
  s.keepAlives.cancel(node); // when called early (an unreachable report), the Ack re-arms it
  s.send(connection.id, {
    type: "EndpointKeepAlive",
    home: false,
    registrarId: s.id,
    poolHandle: node.poolHandle,
  });
  node.keepAliveSentAt = s.now;
  s.keepAliveDeadlines.set(node, s.now + s.timers.keepAliveTimeout);
}

/** No Keep-Alive Ack in time: the element is removed (RFC 5352 §3.4 step 4). */
export function keepAliveMissed(s: RegistrarState, node: PoolElementNode): void {
  if (node.pool.elements.get(node.identifier) !== node || node.homeRegistrarId !== s.id) return;
  removeElement(s, node, "keep-alive");
  scheduleExpiry(s);
}

/**
 * Tells elements this registrar has become their home (after a takeover,
 * or accepting a takeover suggestion): an ASAP_ENDPOINT_KEEP_ALIVE with the
 * Home flag on a connection to each element's ASAP endpoint.
 */
export function claimHome(s: RegistrarState, nodes: readonly PoolElementNode[]): void {
  const byTransport = new Map<
    string,
    { transport: TransportParameter; nodes: PoolElementNode[] }
  >();
  for (const node of nodes) {
    const transport = node.asapTransport;
    if (transport === undefined) continue;
    const key = `${transport.type}/${transport.port}/${transport.addresses.join(",")}`;
    let group = byTransport.get(key);
    if (group === undefined) {
      group = { transport, nodes: [] };
      byTransport.set(key, group);
    }
    group.nodes.push(node);
  }
  for (const { transport, nodes: group } of byTransport.values()) {
    s.pendingHome.set(s.connect("asap", transport), group);
  }
}

/** A connection opened by {@link claimHome} is up: send the Home keep-alives. */
export function sendHomeKeepAlives(s: RegistrarState, connection: Connection): void {
  const group = s.pendingHome.get(connection.id);
  if (group === undefined) return;
  s.pendingHome.delete(connection.id);
  for (const node of group) {
    if (node.pool.elements.get(node.identifier) !== node) continue;
    // Supervised over this connection from now on, re-registered or not (RFC 5352 §3.4).
    if (node.homeRegistrarId === s.id) s.handlespace.attach(node, connection.id);
    s.send(connection.id, {
      type: "EndpointKeepAlive",
      home: true,
      registrarId: s.id,
      poolHandle: node.poolHandle,
    });
    if (node.homeRegistrarId === s.id) {
      s.keepAliveDeadlines.set(node, s.now + s.timers.keepAliveTimeout);
    }
  }
}

/** An ASAP connection is gone: the elements registered over it go too (as RSPLIB does). */
export function asapConnectionLost(s: RegistrarState, connection: Connection): void {
  s.pendingHome.delete(connection.id);
  const nodes = [...s.handlespace.registeredOver(connection.id)];
  for (const node of nodes) removeElement(s, node, "connection-lost");
  if (nodes.length > 0) scheduleExpiry(s);
}
