/**
 * Takeover of a failed registrar's elements (RFC 5353 §3.5): arbitration,
 * contests, expiry, and what the new home does with the elements it took.
 *
 * @module
 */

import type { ConformanceCase } from "../types.ts";

/** The cases. */
export const REGISTRAR_TAKEOVER_CASES: readonly ConformanceCase[] = [];
