/**
 * Runs conformance cases against a target and collects verdicts with their
 * evidence.
 *
 * @module
 */

import { CaseContext, CaseOutcome, type RunConfig } from "./context.ts";
import { ExpectationFailure, type WireRecord } from "./peer.ts";
import type { CaseResult, ConformanceCase, ConformanceReport, Role, Verdict } from "./types.ts";

/** Options of {@link runConformance}. */
export interface RunOptions {
  /** The target and how to drive it. */
  readonly config: RunConfig;
  /** Only cases whose id matches one of these globs (`*` within a segment, `**` across). */
  readonly cases?: readonly string[];
  /** Only these roles. */
  readonly roles?: readonly Role[];
  /** Called as each case starts. */
  readonly onStart?: (c: ConformanceCase, index: number, total: number) => void;
  /** Called with each result. */
  readonly onResult?: (result: CaseResult, index: number, total: number) => void;
  /** Called with each case's raw messages (to write captures). */
  readonly onWire?: (c: ConformanceCase, wire: readonly WireRecord[]) => void | Promise<void>;
  /** Describes the target in the report. */
  readonly target?: { asap?: string; enrp?: string; builtin: boolean };
}

/** Whether an id matches a glob (or is below a plain prefix). */
export function matches(id: string, pattern: string): boolean {
  if (!pattern.includes("*")) {
    return id === pattern || id.startsWith(pattern.replace(/\/$/, "") + "/");
  }
  const regex = pattern.split("**").map((part) =>
    part.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")
  ).join(".*");
  return new RegExp(`^${regex}$`).test(id);
}

/** Why a role cannot be tested with this configuration, if it cannot. */
function roleUnavailable(role: Role, config: RunConfig): string | undefined {
  switch (role) {
    case "registrar-asap":
    case "robustness":
      return config.asap === undefined
        ? "no registrar target (--target tcp://host:port)"
        : undefined;
    case "registrar-enrp":
      if (config.asap === undefined) return "no registrar target (--target)";
      return config.enrp === undefined
        ? "no ENRP endpoint of the target (--enrp tcp://host:port)"
        : undefined;
    case "element":
      return config.element === undefined
        ? "no pool element to test (give --spawn-element, or run without --target)"
        : undefined;
    case "user":
      return config.user === undefined
        ? "no pool user to test (give --spawn-user, or run without --target)"
        : undefined;
  }
}

/** Runs the cases in order; one at a time (they share the target). */
export async function runConformance(
  all: readonly ConformanceCase[],
  options: RunOptions,
): Promise<ConformanceReport> {
  const { config } = options;
  const selected = all.filter((c) =>
    (options.cases === undefined || options.cases.length === 0 ||
      options.cases.some((p) => matches(c.id, p))) &&
    (options.roles === undefined || options.roles.length === 0 || options.roles.includes(c.role))
  );
  const results: CaseResult[] = [];
  const started = performance.now();
  for (let i = 0; i < selected.length; i++) {
    const c = selected[i];
    options.onStart?.(c, i, selected.length);
    const result = await runCase(c, config, options.onWire);
    results.push(result);
    options.onResult?.(result, i, selected.length);
  }
  const summary = { OK: 0, "NON-STRICT": 0, UNSUPPORTED: 0, FAILED: 0 } as Record<Verdict, number>;
  for (const r of results) summary[r.verdict]++;
  return {
    target: {
      ...(options.target ?? { builtin: false }),
      features: [...config.features].sort(),
      profile: config.profile,
      strict: config.strict,
    },
    summary: {
      ...summary,
      total: results.length,
      durationMs: Math.round(performance.now() - started),
    },
    cases: results,
  };
}

/** Runs one case with its time limit and turns its outcome into a verdict. */
export async function runCase(
  c: ConformanceCase,
  config: RunConfig,
  onWire?: RunOptions["onWire"],
): Promise<CaseResult> {
  const base = { id: c.id, ref: c.ref, level: c.level, role: c.role };
  const unavailable = roleUnavailable(c.role, config);
  const missing = (c.features ?? []).filter((f) => !config.features.has(f));
  if (unavailable !== undefined || missing.length > 0) {
    return {
      ...base,
      verdict: "UNSUPPORTED",
      durationMs: 0,
      reason: unavailable ?? `the target does not claim ${missing.join(", ")} (--features)`,
      evidence: { messages: [], notes: [] },
    };
  }
  const ctx = new CaseContext(config, c.id);
  const timeout = c.timeout(config.timers);
  const start = performance.now();
  let verdict: Verdict = "OK";
  let reason: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      c.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new CaseOutcome("FAILED", `timed out after ${timeout} ms`)),
          timeout,
        );
      }),
    ]);
  } catch (e) {
    if (e instanceof CaseOutcome) {
      verdict = e.verdict;
      reason = e.reason;
    } else if (e instanceof ExpectationFailure) {
      verdict = "FAILED";
      reason = e.message;
      ctx.evidence.expected = e.expected;
      ctx.evidence.got = e.got;
    } else {
      verdict = "FAILED";
      reason = `error: ${(e as Error)?.stack ?? String(e)}`;
    }
  } finally {
    clearTimeout(timer);
    await ctx.close();
  }
  if (verdict === "OK" && ctx.shortfalls.length > 0) {
    verdict = "NON-STRICT";
    reason = ctx.shortfalls.join("; ");
  }
  // What a SHOULD (or MAY) case misses is not a failure unless --strict.
  if (verdict === "FAILED" && c.level !== "MUST" && !reason?.startsWith("error:")) {
    verdict = "NON-STRICT";
  }
  if (verdict === "NON-STRICT" && config.strict) verdict = "FAILED";
  await onWire?.(c, ctx.wire);
  return {
    ...base,
    verdict,
    durationMs: Math.round(performance.now() - start),
    ...(reason === undefined ? {} : { reason }),
    evidence: ctx.evidence,
  };
}
