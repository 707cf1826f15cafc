/**
 * Distances for the delay-sensitive policies (draft-dreibholz-rserpool-delay,
 * the "DPF" policies): measured as RSPLIB's registrar does when the
 * registrar option `distanceStep` is set. An element's distance is half the
 * round-trip time of its registration connection, rounded to the step; a
 * peer's Handle Update or handle table adds half the round-trip time of the
 * ENRP connection to that peer to the distance the peer reported. Unset,
 * every element keeps the distance it registered.
 *
 * The round-trip times come from the registrar's own request-answer pairs
 * (TCP does not tell a program its own estimate): an Endpoint Keep-Alive and
 * its Ack, a reply-required Presence and the answer (with `distanceStep`,
 * every heartbeat Presence asks for one). Each connection keeps a smoothed
 * estimate (RFC 6298's SRTT: 7/8 of the old, 1/8 of the new sample).
 *
 * @module
 */

import type { PoolElementParameter } from "../protocol/types.ts";
import type { Connection, RegistrarState } from "./state.ts";

/** Adds a round-trip sample (ms) to a connection's smoothed estimate. */
export function rttSample(connection: Connection | undefined, sample: number): void {
  if (connection === undefined || !(sample >= 0)) return;
  connection.srtt = connection.srtt === undefined
    ? sample
    : 0.875 * connection.srtt + 0.125 * sample;
}

/** Half a connection's round-trip time rounded to the step (RSPLIB's registrarRoundDistance); 0 while unknown. */
export function distanceOver(s: RegistrarState, connection: Connection | undefined): number {
  const step = s.options.distanceStep;
  if (step === undefined || connection?.srtt === undefined) return 0;
  return Math.round(connection.srtt / 2 / step) * step;
}

/**
 * The element with its distance as this registrar measures it: the
 * distance over `connection`, plus, with `addReported`, the distance the
 * element came with (a peer's distance to it). Elements whose policy has no
 * distance, and every element when measuring is off, come back unchanged.
 */
export function withDistance(
  s: RegistrarState,
  element: PoolElementParameter,
  connection: Connection | undefined,
  addReported: boolean,
): PoolElementParameter {
  const policy = element.policy;
  if (s.options.distanceStep === undefined || !("distance" in policy)) return element;
  const reported = addReported ? policy.distance : 0;
  const distance = Math.min(0xffffffff, reported + distanceOver(s, connection));
  return { ...element, policy: { ...policy, distance } };
}
