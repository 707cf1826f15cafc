/**
 * The RSerPool conformance suite as a library: its cases, the runner, the
 * built-in targets, reports and the capture checker. The `rserpool
 * conformance` command is the usual way to run it (conformance/README.md).
 *
 * ```ts ignore
 * import { ALL_CASES, RSPLIB_TARGET_TIMERS, runConformance } from "@rserpool/rserpool/conformance";
 *
 * const report = await runConformance(ALL_CASES, {
 *   config: {
 *     asap: { address: "127.0.0.1", port: 3863 },
 *     profile: "rfc",
 *     timers: RSPLIB_TARGET_TIMERS,
 *     features: new Set(["hropt"]),
 *     strict: false,
 *     listenHost: "127.0.0.1",
 *   },
 *   roles: ["registrar-asap", "robustness"],
 * });
 * console.log(report.summary);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export { ALL_CASES } from "./cases/mod.ts";
export { matches, runCase, runConformance, type RunOptions } from "./runner.ts";
export {
  CaseContext,
  CaseOutcome,
  type ElementDriver,
  type RegistrarDriver,
  type RunConfig,
  type RunningElement,
  type RunningRegistrarTarget,
  type RunningTarget,
  type RunningUser,
  type SuiteListener,
  type UserDriver,
} from "./context.ts";
export {
  type Arrival,
  ExpectationFailure,
  Peer,
  type PeerRecorder,
  type Undecodable,
  type WireRecord,
} from "./peer.ts";
export { BUILTIN_TIMERS, type BuiltinTargets, startBuiltinTargets } from "./builtin.ts";
export { casesMarkdown, htmlReport, jsonReport, junitReport, summaryTable } from "./report.ts";
export { casePcap } from "./pcap.ts";
export { checkCapture, type TraceReport, type TraceRule, traceSummary } from "./trace.ts";
export {
  healthCheck,
  networkFuzz,
  type NetworkFuzzOptions,
  type NetworkFuzzStats,
  type TargetEndpoint,
} from "./network.ts";
export { sampleMessages } from "./samples.ts";
