/**
 * The registrar's ENRP procedures (RFC 5353 §3): peers and their
 * discovery, presence with the checksum audit, handle table download and
 * resynchronisation, handle update propagation, peer lists, and failure
 * detection. Takeover is in `takeover.ts`.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { PoolElementNode } from "../handlespace/node.ts";
import { UpdateAction } from "../protocol/constants.ts";
import type {
  EnrpMessage,
  HandleTablePool,
  HandleTableResponse,
  HandleUpdate,
  Identifier,
  ListResponse,
  Presence,
  ServerInformation,
  TransportParameter,
} from "../protocol/types.ts";
import { claimHome, removeElement, scheduleExpiry } from "./asap.ts";
import { rttSample, withDistance } from "./distance.ts";
import { type Connection, fitsInMessage, type PeerState, type RegistrarState } from "./state.ts";
import { onInitTakeover, onInitTakeoverAck, onTakeoverServer, startTakeover } from "./takeover.ts";

function transportKey(t: TransportParameter): string {
  return `${t.type}/${t.port}/${t.addresses.join(",")}`;
}

/** This registrar's Server Information. */
export function serverInformation(s: RegistrarState): ServerInformation {
  return { registrarId: s.id, transport: s.options.enrpTransport };
}

/** An ENRP_PRESENCE from this registrar to `receiver` (0: multicast). */
export function presence(
  s: RegistrarState,
  receiver: Identifier,
  replyRequired: boolean,
): Presence {
  return {
    type: "Presence",
    replyRequired,
    sendingRegistrarId: s.id,
    receivingRegistrarId: receiver,
    checksum: s.handlespace.checksum(s.id, s.checksumVariant),
    serverInformation: serverInformation(s),
  };
}

/** Sends a message to every connected peer, each with its Receiving Server's ID. */
export function sendToPeers(
  s: RegistrarState,
  make: (peer: PeerState) => EnrpMessage,
  except?: Identifier,
): void {
  for (const peer of s.connectedPeers()) {
    if (peer.id !== except) s.send(peer.connection!, make(peer));
  }
}

/** Finds or creates the peer of an identifier. */
function learnPeer(s: RegistrarState, id: Identifier, connection?: Connection): PeerState {
  let peer = s.peers.get(id);
  if (peer === undefined) {
    peer = { id, lastHeard: s.now };
    s.peers.set(id, peer);
    s.emit({ kind: "peer-up", peer: id });
    if (!s.tasks.has("peer-check")) s.tasks.set("peer-check", s.now + s.timers.maxTimeLastHeard);
  }
  if (connection !== undefined) {
    connection.peer = peer;
    const current = peer.connection === undefined ? undefined : s.connections.get(peer.connection);
    if (current === undefined || !current.up) peer.connection = connection.id;
  }
  return peer;
}

/**
 * A message from a peer: it is alive. A peer we were taking over stops the
 * takeover (RFC 5353 §3.7.1: the target shows it is alive).
 */
function heardFrom(s: RegistrarState, peer: PeerState): void {
  peer.lastHeard = s.now;
  peer.probeSentAt = undefined;
  if (s.takeovers.delete(peer.id)) {
    s.tasks.cancel(`takeover:${String(peer.id)}`);
    s.emit({ kind: "takeover-abandoned", target: peer.id });
  }
}

/** Opens an ENRP connection to a peer's endpoint unless one is open or opening. */
export function reachPeer(s: RegistrarState, transport: TransportParameter): void {
  const key = transportKey(transport);
  for (const peer of s.peers.values()) {
    if (
      peer.transport !== undefined && transportKey(peer.transport) === key &&
      peer.connection !== undefined
    ) {
      if (s.connections.has(peer.connection)) return;
    }
  }
  for (const sp of s.staticPeers) {
    if (
      transportKey(sp.transport) === key && sp.connection !== undefined &&
      s.connections.has(sp.connection)
    ) {
      return;
    }
  }
  if (transportKey(s.options.enrpTransport) === key) return;
  const id = s.connect("enrp", transport);
  const sp = s.staticPeers.find((p) => transportKey(p.transport) === key);
  if (sp !== undefined) sp.connection = id;
}

/** An ENRP connection is up: introduce ourselves with a reply-required Presence. */
export function enrpConnectionUp(s: RegistrarState, connection: Connection): void {
  s.send(connection.id, presence(s, connection.peer?.id ?? s.zero, true));
}

/** An ENRP connection is gone. */
export function enrpConnectionLost(s: RegistrarState, connection: Connection): void {
  const peer = connection.peer;
  if (peer !== undefined && peer.connection === connection.id) peer.connection = undefined;
  for (const sp of s.staticPeers) if (sp.connection === connection.id) sp.connection = undefined;
}

/** Handles an ENRP message from a connection. */
export function onEnrp(s: RegistrarState, connection: Connection, m: EnrpMessage): void {
  const sender = m.sendingRegistrarId;
  if (sender === s.id) {
    s.emit({
      kind: "protocol-error",
      connection: connection.id,
      detail: "a peer uses our identifier",
    });
    return;
  }
  if (m.receivingRegistrarId !== s.zero && m.receivingRegistrarId !== s.id) return; // not for us
  const peer = learnPeer(s, sender, connection);
  heardFrom(s, peer);
  switch (m.type) {
    case "Presence":
      return onPresence(s, connection, peer, m);
    case "HandleTableRequest":
      return serveHandleTable(s, connection, peer, m.ownChildrenOnly);
    case "HandleTableResponse":
      return onHandleTable(s, connection, peer, m);
    case "HandleUpdate":
      return onHandleUpdate(s, connection, m);
    case "ListRequest":
      s.send(connection.id, listResponse(s, peer.id));
      return;
    case "ListResponse":
      return onListResponse(s, m);
    case "InitTakeover":
      return onInitTakeover(s, peer, m.targetRegistrarId);
    case "InitTakeoverAck":
      return onInitTakeoverAck(s, peer, m.targetRegistrarId);
    case "TakeoverServer":
      return onTakeoverServer(s, peer, m.targetRegistrarId);
    case "EnrpError":
      s.emit({
        kind: "protocol-error",
        connection: connection.id,
        detail: `ENRP Error from ${String(sender)}: causes ${
          m.operationError.map((c) => c.code).join(", ")
        }`,
      });
      return;
  }
}

/** ENRP_PRESENCE (RFC 5353 §3.6, §3.8): refresh, answer, audit, and find a mentor. */
function onPresence(s: RegistrarState, connection: Connection, peer: PeerState, m: Presence): void {
  if (m.serverInformation !== undefined) peer.transport = m.serverInformation.transport;
  if (!m.replyRequired && peer.presenceSentAt !== undefined) {
    rttSample(connection, s.now - peer.presenceSentAt);
    peer.presenceSentAt = undefined;
  }
  if (m.replyRequired) s.send(connection.id, presence(s, peer.id, false));
  if (s.phase === "starting" && s.mentor === undefined) {
    chooseMentor(s, peer);
    return;
  }
  // Audit: the peer's checksum over what it owns against ours over what we think it owns.
  if (
    peer.download === undefined && m.checksum !== s.handlespace.checksum(peer.id, s.checksumVariant)
  ) {
    s.handlespace.mark(peer.id);
    peer.download = "own";
    s.send(connection.id, {
      type: "HandleTableRequest",
      ownChildrenOnly: true,
      sendingRegistrarId: s.id,
      receivingRegistrarId: peer.id,
    });
  }
}

/** The mentor (RFC 5353 §3.2.2, §3.2.3): ask it for its peers and its handle table. */
function chooseMentor(s: RegistrarState, peer: PeerState): void {
  s.mentor = peer.id;
  s.tasks.cancel("mentor");
  s.emit({ kind: "mentor", peer: peer.id });
  const ids = { sendingRegistrarId: s.id, receivingRegistrarId: peer.id };
  s.send(peer.connection!, { type: "ListRequest", ...ids });
  peer.download = "full";
  s.send(peer.connection!, { type: "HandleTableRequest", ownChildrenOnly: false, ...ids });
}

/** No mentor answered in time: start alone (RFC 5353 §3.2.2). */
export function mentorTimeout(s: RegistrarState): void {
  if (s.phase === "starting") {
    s.phase = "running";
    s.emit({ kind: "mentor", peer: undefined });
  }
}

/** ENRP_HANDLE_TABLE_REQUEST: the next page of our handle table (RFC 5353 §2.3, §3.2.3). */
function serveHandleTable(
  s: RegistrarState,
  connection: Connection,
  peer: PeerState,
  ownOnly: boolean,
): void {
  const continuing = peer.serving !== undefined && peer.serving.ownOnly === ownOnly;
  const cursor = continuing ? peer.serving!.cursor : undefined;
  let max = s.options.maxHandleTableItems ?? 128;
  for (;;) {
    const page = s.handlespace.page(cursor, max, ownOnly ? s.id : undefined);
    const pools: HandleTablePool[] = page.pools.map((group) => ({
      poolHandle: group.pool.handle,
      poolElements: group.elements.map((n) => n.toPoolElement()),
    }));
    const response: HandleTableResponse = {
      type: "HandleTableResponse",
      reject: false,
      moreToSend: page.next !== undefined,
      sendingRegistrarId: s.id,
      receivingRegistrarId: peer.id,
      pools,
    };
    if (max > 1 && !fitsInMessage(s, response)) {
      max = Math.ceil(max / 2); // large transports: fewer elements per page
      continue;
    }
    peer.serving = page.next === undefined ? undefined : { cursor: page.next, ownOnly };
    s.send(connection.id, response);
    return;
  }
}

/** Adds or updates an element another registrar owns; returns it, or undefined if refused. */
function learnElement(
  s: RegistrarState,
  poolHandle: Uint8Array,
  reported: HandleUpdate["poolElement"],
  connection: Connection,
): PoolElementNode | undefined {
  if (reported.homeRegistrarId === s.id || reported.homeRegistrarId === s.zero) return undefined;
  // Its distance from here: the peer's distance to it plus ours to the peer (./distance.ts).
  const element = withDistance(s, reported, connection, true);
  try {
    const { node, added } = s.handlespace.register(poolHandle, element, {
      now: s.now,
      homeRegistrarId: element.homeRegistrarId,
      asapTransport: element.asapTransport,
    });
    s.emit({ kind: "learnt", node, added });
    return node;
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    s.emit({
      kind: "protocol-error",
      connection: "",
      detail: `element from a peer refused: ${e.message}`,
    });
    return undefined;
  }
}

/** ENRP_HANDLE_TABLE_RESPONSE: take the page, ask for more, finish a resynchronisation. */
function onHandleTable(
  s: RegistrarState,
  connection: Connection,
  peer: PeerState,
  m: HandleTableResponse,
): void {
  const download = peer.download;
  if (download === undefined) return; // nothing asked
  if (m.reject) {
    peer.download = undefined;
    if (download === "own") {
      for (const node of s.handlespace.ownedBy(peer.id)) node.marked = false;
    }
    finishStart(s, peer);
    return;
  }
  for (const pool of m.pools) {
    for (const element of pool.poolElements) {
      learnElement(s, pool.poolHandle, element, connection);
    }
  }
  scheduleExpiry(s);
  if (m.moreToSend) {
    s.send(connection.id, {
      type: "HandleTableRequest",
      ownChildrenOnly: download === "own",
      sendingRegistrarId: s.id,
      receivingRegistrarId: peer.id,
    });
    return;
  }
  peer.download = undefined;
  if (download === "own") {
    for (const node of s.handlespace.sweep(peer.id)) {
      s.emit({ kind: "removed", node, reason: "resynchronisation" });
    }
  }
  s.emit({ kind: "synchronised", peer: peer.id, elements: s.handlespace.ownedCount(peer.id) });
  finishStart(s, peer);
}

function finishStart(s: RegistrarState, peer: PeerState): void {
  if (s.phase === "starting" && s.mentor === peer.id) s.phase = "running";
}

/** ENRP_HANDLE_UPDATE (RFC 5353 §3.3; Takeover Suggestion draft). */
function onHandleUpdate(s: RegistrarState, connection: Connection, m: HandleUpdate): void {
  const element = m.poolElement;
  if (element.homeRegistrarId === s.id) return; // our own elements are ours to announce
  if (m.updateAction === UpdateAction.DeletePoolElement) {
    const node = s.handlespace.find(m.poolHandle, element.identifier);
    if (node !== undefined && node.homeRegistrarId !== s.id) {
      removeElement(s, node, "handle-update");
      scheduleExpiry(s);
    }
    return;
  }
  if (m.updateAction !== UpdateAction.AddPoolElement) return;
  const node = learnElement(s, m.poolHandle, element, connection);
  scheduleExpiry(s);
  if (node !== undefined && m.takeoverSuggested && s.options.acceptTakeoverSuggestions !== false) {
    claimHome(s, [node]);
  }
}

/** ENRP_LIST_RESPONSE for a peer. */
function listResponse(s: RegistrarState, receiver: Identifier): ListResponse {
  const servers: ServerInformation[] = [];
  for (const peer of s.peers.values()) {
    if (peer.transport !== undefined) {
      servers.push({ registrarId: peer.id, transport: peer.transport });
    }
  }
  return {
    type: "ListResponse",
    reject: false,
    sendingRegistrarId: s.id,
    receivingRegistrarId: receiver,
    servers,
  };
}

/** ENRP_LIST_RESPONSE: connect to the peers we do not know yet (RFC 5353 §3.2.2). */
function onListResponse(s: RegistrarState, m: ListResponse): void {
  if (m.reject) return;
  for (const server of m.servers) {
    if (server.registrarId === s.id) continue;
    const known = server.registrarId === s.zero ? undefined : s.peers.get(server.registrarId);
    if (
      known !== undefined && known.connection !== undefined && s.connections.has(known.connection)
    ) continue;
    reachPeer(s, server.transport);
  }
}

/** An ENRP Presence by multicast: learn the peer and connect to it (no audit, as RSPLIB). */
export function onMulticastPresence(s: RegistrarState, m: Presence): void {
  if (m.sendingRegistrarId === s.id || m.serverInformation === undefined) return;
  const peer = learnPeer(s, m.sendingRegistrarId);
  peer.transport = m.serverInformation.transport;
  heardFrom(s, peer);
  const current = peer.connection === undefined ? undefined : s.connections.get(peer.connection);
  if (current === undefined) reachPeer(s, m.serverInformation.transport);
}

/** The heartbeat (RFC 5353 §3.6): Presences to every peer, reconnection of lost ones. */
export function heartbeat(s: RegistrarState): void {
  // Measuring distances (./distance.ts), every Presence asks for an answer: a round trip.
  const measuring = s.options.distanceStep !== undefined;
  sendToPeers(s, (peer) => {
    if (measuring) peer.presenceSentAt = s.now;
    return presence(s, peer.id, measuring);
  });
  if (s.options.multicastPresence) s.multicast("enrp-presence", presence(s, s.zero, false));
  for (const sp of s.staticPeers) {
    if (sp.connection === undefined || !s.connections.has(sp.connection)) {
      reachPeer(s, sp.transport);
    }
  }
  for (const peer of s.peers.values()) {
    const live = peer.connection !== undefined && s.connections.has(peer.connection);
    if (!live && peer.transport !== undefined) {
      reachPeer(s, peer.transport);
    }
  }
  s.tasks.set("heartbeat", s.now + s.timers.peerHeartbeatCycle);
}

/**
 * Failure detection (RFC 5353 §3.6): ask silent peers for a Presence;
 * peers that do not answer in time have failed and are taken over.
 */
export function checkPeers(s: RegistrarState): void {
  const { maxTimeLastHeard, maxTimeNoResponse } = s.timers;
  let next: number | undefined;
  for (const peer of [...s.peers.values()]) {
    if (peer.probeSentAt !== undefined) {
      if (s.now >= peer.probeSentAt + maxTimeNoResponse) {
        peerFailed(s, peer);
        continue;
      }
      next = Math.min(next ?? Infinity, peer.probeSentAt + maxTimeNoResponse);
    } else if (s.now >= peer.lastHeard + maxTimeLastHeard) {
      peer.probeSentAt = s.now;
      const connection = peer.connection === undefined
        ? undefined
        : s.connections.get(peer.connection);
      if (connection?.up) s.send(connection.id, presence(s, peer.id, true));
      next = Math.min(next ?? Infinity, s.now + maxTimeNoResponse);
    } else {
      next = Math.min(next ?? Infinity, peer.lastHeard + maxTimeLastHeard);
    }
  }
  if (next === undefined) s.tasks.cancel("peer-check");
  else s.tasks.set("peer-check", next);
}

/** A peer has failed: take its elements over, or just forget it when it owns none. */
function peerFailed(s: RegistrarState, peer: PeerState): void {
  s.peers.delete(peer.id);
  if (peer.connection !== undefined && s.connections.has(peer.connection)) {
    s.close(peer.connection, true);
  }
  s.emit({ kind: "peer-down", peer: peer.id });
  if (s.handlespace.ownedCount(peer.id) > 0) {
    startTakeover(s, peer.id);
  }
}
