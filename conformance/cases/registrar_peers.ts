/**
 * A registrar's peers over ENRP (RFC 5353 §3.2–§3.4, §3.6): keeping in
 * contact with them (heartbeats, reconnections, one connection each),
 * start-up with a mentor, failure detection, handle tables that need
 * paging or splitting, and resynchronisations that go wrong.
 *
 * @module
 */

import type { ConformanceCase } from "../types.ts";

/** The cases. */
export const REGISTRAR_PEER_CASES: readonly ConformanceCase[] = [];
