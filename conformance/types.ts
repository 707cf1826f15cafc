/**
 * The vocabulary of the conformance suite: cases, levels, roles, features,
 * verdicts and results.
 *
 * @module
 */

import type { CaseContext } from "./context.ts";

/** Requirement level (RFC 2119). */
export type Level = "MUST" | "SHOULD" | "MAY";

/** What a case tests. */
export type Role =
  | "registrar-asap"
  | "registrar-enrp"
  | "element"
  | "user"
  | "robustness";

/**
 * Optional features a target may implement. Cases needing a feature the
 * target's profile lacks are reported UNSUPPORTED, not run.
 *
 * - `hropt`: the Handle Resolution Option (draft-dreibholz-rserpool-asap-hropt)
 * - `takeover-suggestion`: ENRP Takeover Suggestion (draft-dreibholz-rserpool-enrp-takeover)
 * - `nextgen-ids`: the next-generation profile (64-bit identifiers, docs/nextgen.md)
 * - `home-keepalive`: a pool element can be reached at its ASAP endpoint by a
 *   registrar it did not register with (over TCP: its DATA PLUS CONTROL user
 *   transport, docs/transports.md)
 * - `control-channel`: pool user ↔ element ASAP control messages (cookies)
 * - `controlled`: the runner can start and stop the target (built-in or `--spawn`)
 * - `announce`: ASAP Server Announces over UDP multicast (RFC 5352 §3.6): a
 *   registrar sends them on its announce channel (`--announce`), elements and
 *   users find registrars by them
 * - `policy-round-robin`: Round Robin's exact rotation and Weighted Round Robin
 *   (RFC 5356 §4.1, §4.2); plain rotation is checked without it
 * - `policy-random`: Random and Weighted Random (RFC 5356 §4.3, §4.4)
 * - `policy-priority`: Priority (RFC 5356 §4.5)
 * - `policy-least-used`: Least Used, Least Used with Degradation, Priority
 *   Least Used, Randomized Least Used (RFC 5356 §5.1–§5.4)
 * - `policy-rsplib`: RSPLIB's Randomized Priority Least Used, Randomized Least
 *   Used with Degradation, Priority Least Used with Degradation, Randomized
 *   Priority Least Used with Degradation (docs/policies.md)
 * - `policy-dpf`: RSPLIB's distance penalty factor policies with a wire
 *   encoding (WRAND-DPF, LU-DPF, LUD-DPF; draft-dreibholz-rserpool-delay)
 * - `policy-dpf-priority`: PLU-DPF and PLUD-DPF, which RSPLIB defines without
 *   a wire encoding (this library's layout, docs/wire.md)
 */
export type Feature =
  | "hropt"
  | "takeover-suggestion"
  | "nextgen-ids"
  | "home-keepalive"
  | "control-channel"
  | "controlled"
  | "announce"
  | "policy-round-robin"
  | "policy-random"
  | "policy-priority"
  | "policy-least-used"
  | "policy-rsplib"
  | "policy-dpf"
  | "policy-dpf-priority";

/** Every feature, for `--features all`. */
export const ALL_FEATURES: readonly Feature[] = [
  "hropt",
  "takeover-suggestion",
  "nextgen-ids",
  "home-keepalive",
  "control-channel",
  "controlled",
  "announce",
  "policy-round-robin",
  "policy-random",
  "policy-priority",
  "policy-least-used",
  "policy-rsplib",
  "policy-dpf",
  "policy-dpf-priority",
];

/** The RFC 5356 policy families, for `--features policies`. */
export const RFC_POLICY_FEATURES: readonly Feature[] = [
  "policy-round-robin",
  "policy-random",
  "policy-priority",
  "policy-least-used",
];

/**
 * A case's verdict (as Autobahn|Testsuite reports them):
 * - `OK`: the requirement holds;
 * - `NON-STRICT`: a SHOULD (or a SHOULD-part of a MUST case) does not hold;
 *   FAILED with `--strict`;
 * - `UNSUPPORTED`: the target does not claim a feature the case needs, or
 *   the runner cannot drive that role here;
 * - `FAILED`: a MUST does not hold, or the case timed out.
 */
export type Verdict = "OK" | "NON-STRICT" | "UNSUPPORTED" | "FAILED";

/** The suite's knowledge of the target's timers and thresholds (ms). */
export interface TargetTimers {
  /** Registrar: between Endpoint Keep-Alives to an element. */
  readonly keepAliveInterval: number;
  /** Registrar: wait for the Keep-Alive Ack before removing an element. */
  readonly keepAliveTimeout: number;
  /** Registrar: between Presences to each peer. */
  readonly peerHeartbeatCycle: number;
  /** Registrar: silence before a peer is probed. */
  readonly maxTimeLastHeard: number;
  /** Registrar: wait for the probe's answer. */
  readonly maxTimeNoResponse: number;
  /** Registrar: a takeover without every acknowledgement is given up after this (RSPLIB). */
  readonly takeoverExpiry: number;
  /**
   * Registrar: how long a starting registrar waits for a mentor before it
   * starts alone (RFC 5353 §3.2.2.1 leaves the value to the implementation;
   * RSPLIB's `-mentordiscoverytimeout`).
   */
  readonly mentorHuntTimeout: number;
  /** Registrar: Endpoint Unreachable reports that remove an element (MAX-BAD-PE-REPORT). */
  readonly maxBadPeReports: number;
  /** Registrar: elements per Handle Table Response page at most (to size the paging case). */
  readonly handleTablePage: number;
  /** Registrar: elements per Handle Resolution Response when the request names no number (RSPLIB: 3). */
  readonly handleResolutionItems: number;
  /**
   * Registrar: how many of the elements of one handle resolution an ordered
   * policy moves on (RSPLIB's `-maxincrement`); 0 for each policy's own
   * default (1 for the ordered policies, docs/policies.md).
   */
  readonly maxIncrement: number;
  /** Registrar: T6-Serverannounce, between ASAP Server Announces (when it sends them). */
  readonly serverAnnounceCycle: number;
  /** Pool element: T2-registration, the wait for a Registration Response. */
  readonly registrationTimeout: number;
  /** Pool element: registration attempts at one registrar before it hunts another (MAX-REG-ATTEMPT). */
  readonly maxRegistrationAttempts: number;
  /**
   * Pool element and user: how long one connection attempt to a registrar
   * may take before they try another (not in the RFCs; RSPLIB: 7.5 s).
   */
  readonly connectTimeout: number;
  /** Pool user: T1-ENRPrequest, the wait for a Handle Resolution Response. */
  readonly requestTimeout: number;
  /** Pool user: retransmissions before it hunts another registrar (MAX-REQUEST-RETRANSMIT). */
  readonly maxRequestRetransmit: number;
  /** Pool user: stale.cache.value, how long a resolution may be used. */
  readonly staleCache: number;
  /** Slack added to every wait for the target (network, scheduling). */
  readonly slack: number;
}

/** RFC 5352/5353 defaults. */
export const RFC_TARGET_TIMERS: TargetTimers = Object.freeze({
  keepAliveInterval: 5000,
  keepAliveTimeout: 5000,
  peerHeartbeatCycle: 30_000,
  maxTimeLastHeard: 61_000,
  maxTimeNoResponse: 5000,
  takeoverExpiry: 5000,
  mentorHuntTimeout: 5000,
  maxBadPeReports: 3,
  handleTablePage: 128,
  handleResolutionItems: 3,
  maxIncrement: 0,
  serverAnnounceCycle: 1000,
  registrationTimeout: 30_000,
  maxRegistrationAttempts: 2,
  connectTimeout: 7500,
  requestTimeout: 15_000,
  maxRequestRetransmit: 2,
  staleCache: 30_000,
  slack: 2000,
});

/** RSPLIB 3.4.4's `rspregistrar` defaults. */
export const RSPLIB_TARGET_TIMERS: TargetTimers = Object.freeze({
  keepAliveInterval: 5000,
  keepAliveTimeout: 5000,
  peerHeartbeatCycle: 2444,
  maxTimeLastHeard: 5000,
  maxTimeNoResponse: 5000,
  takeoverExpiry: 5000,
  mentorHuntTimeout: 5000,
  maxBadPeReports: 3,
  handleTablePage: 128,
  handleResolutionItems: 3,
  maxIncrement: 0,
  serverAnnounceCycle: 1000,
  registrationTimeout: 3000,
  maxRegistrationAttempts: 2,
  connectTimeout: 7500,
  requestTimeout: 3000,
  maxRequestRetransmit: 2,
  staleCache: 30_000,
  slack: 2000,
});

/** A conformance case. */
export interface ConformanceCase {
  /** Stable identifier, e.g. `asap/registrar/registration/policy-mismatch`. */
  readonly id: string;
  /** The RFC (or draft) section, e.g. `RFC 5352 §3.1`. */
  readonly ref: string;
  /** The requirement, in our own words. */
  readonly requirement: string;
  /** Its level. */
  readonly level: Level;
  /** What it tests. */
  readonly role: Role;
  /** Optional features it needs. */
  readonly features?: readonly Feature[];
  /** Its time limit, from the target's timers. */
  readonly timeout: (timers: TargetTimers) => number;
  /** Runs it; returns normally when the requirement holds. */
  readonly run: (ctx: CaseContext) => Promise<void>;
}

/** One message as the evidence shows it. */
export interface EvidenceMessage {
  /** Milliseconds since the case started. */
  readonly t: number;
  /** The connection (e.g. `asap#1`, `enrp#2`, `element-listener#1`). */
  readonly connection: string;
  /** Which way. */
  readonly direction: "sent" | "received";
  /** The message as JSON, or the bytes in hex when they did not decode. */
  readonly message: unknown;
}

/** What a verdict rests on. */
export interface Evidence {
  /** Messages exchanged. */
  readonly messages: EvidenceMessage[];
  /** Observations along the way. */
  readonly notes: string[];
  /** On failure: what was expected. */
  expected?: string;
  /** On failure: what happened instead. */
  got?: string;
}

/** The result of one case. */
export interface CaseResult {
  /** The case's id. */
  readonly id: string;
  /** Its reference. */
  readonly ref: string;
  /** Its level. */
  readonly level: Level;
  /** Its role. */
  readonly role: Role;
  /** The verdict. */
  readonly verdict: Verdict;
  /** How long it ran. */
  readonly durationMs: number;
  /** Why (for UNSUPPORTED, NON-STRICT and FAILED). */
  readonly reason?: string;
  /** The evidence. */
  readonly evidence: Evidence;
}

/** A whole run. */
export interface ConformanceReport {
  /** What was tested. */
  readonly target: {
    readonly asap?: string;
    readonly enrp?: string;
    readonly builtin: boolean;
    readonly features: readonly Feature[];
    readonly profile: "rfc" | "nextgen";
    readonly strict: boolean;
  };
  /** Verdict counts. */
  readonly summary: Record<Verdict, number> & {
    readonly total: number;
    readonly durationMs: number;
  };
  /** Every case. */
  readonly cases: CaseResult[];
}
