/**
 * Takeover of a failed registrar's elements (RFC 5353 §3.7): the
 * initiator asks every peer, the one with the lower identifier wins a
 * contest, and the winner becomes the home of the elements and tells them
 * with Home-flag keep-alives.
 *
 * @module
 */

import type { Identifier } from "../protocol/types.ts";
import { claimHome } from "./asap.ts";
import { presence, sendToPeers } from "./enrp.ts";
import type { PeerState, RegistrarState } from "./state.ts";

/** Starts taking over a failed registrar (RFC 5353 §3.7.1, initiator step 1). */
export function startTakeover(s: RegistrarState, target: Identifier): void {
  if (s.takeovers.has(target)) return;
  const awaiting = new Set<Identifier>();
  for (const peer of s.connectedPeers()) if (peer.id !== target) awaiting.add(peer.id);
  s.takeovers.set(target, { target, awaiting });
  s.emit({ kind: "takeover-started", target });
  sendToPeers(s, (peer) => ({
    type: "InitTakeover",
    sendingRegistrarId: s.id,
    receivingRegistrarId: peer.id,
    targetRegistrarId: target,
  }), target);
  s.tasks.set(`takeover:${String(target)}`, s.now + s.timers.takeoverExpiry);
  if (awaiting.size === 0) completeTakeover(s, target);
}

/** ENRP_INIT_TAKEOVER from a peer (RFC 5353 §3.7, other peers). */
export function onInitTakeover(s: RegistrarState, from: PeerState, target: Identifier): void {
  if (target === s.id) {
    // We are alive: a Presence to everyone stops the takeover.
    sendToPeers(s, (peer) => presence(s, peer.id, false));
    return;
  }
  if (s.takeovers.has(target)) {
    // A contest: the initiator with the lower identifier wins.
    if (from.id < s.id) {
      s.takeovers.delete(target);
      s.tasks.cancel(`takeover:${String(target)}`);
      s.emit({ kind: "takeover-abandoned", target });
    } else {
      return;
    }
  }
  s.send(from.connection!, {
    type: "InitTakeoverAck",
    sendingRegistrarId: s.id,
    receivingRegistrarId: from.id,
    targetRegistrarId: target,
  });
}

/** ENRP_INIT_TAKEOVER_ACK: one more peer agrees. */
export function onInitTakeoverAck(s: RegistrarState, from: PeerState, target: Identifier): void {
  const takeover = s.takeovers.get(target);
  if (takeover === undefined) return;
  takeover.awaiting.delete(from.id);
  if (takeover.awaiting.size === 0) completeTakeover(s, target);
}

/** All peers agreed: announce, adopt the elements, tell them (RFC 5353 §3.7.1 steps 3–4). */
function completeTakeover(s: RegistrarState, target: Identifier): void {
  s.takeovers.delete(target);
  s.tasks.cancel(`takeover:${String(target)}`);
  sendToPeers(s, (peer) => ({
    type: "TakeoverServer",
    sendingRegistrarId: s.id,
    receivingRegistrarId: peer.id,
    targetRegistrarId: target,
  }), target);
  const nodes = s.handlespace.changeOwner(target, s.id);
  s.peers.delete(target);
  for (const node of nodes) s.keepAlives.set(node, s.now + s.timers.keepAliveInterval);
  claimHome(s, nodes);
  s.emit({ kind: "takeover-done", target, elements: nodes.length });
}

/** Not every peer answered in time: give up, and forget the target (as RSPLIB does). */
export function takeoverExpired(s: RegistrarState, target: Identifier): void {
  if (!s.takeovers.delete(target)) return;
  s.peers.delete(target);
  s.emit({ kind: "takeover-abandoned", target });
}

/** ENRP_TAKEOVER_SERVER: another registrar took the target over (RFC 5353 §3.7.2). */
export function onTakeoverServer(s: RegistrarState, from: PeerState, target: Identifier): void {
  if (target === s.id) return; // we are alive; our elements will re-register with us or the taker
  s.handlespace.changeOwner(target, from.id);
  s.peers.delete(target);
  if (s.takeovers.delete(target)) s.tasks.cancel(`takeover:${String(target)}`);
  s.emit({ kind: "taken-over", target, by: from.id });
}
