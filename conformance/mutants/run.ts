/**
 * The child program of the Stryker test runner (deno-runner.mjs): runs
 * conformance cases against the built-in targets, as `deno task conformance`
 * does, inside a Stryker sandbox whose lib/ is instrumented, and writes the
 * verdicts and the mutant coverage as JSON.
 *
 *     deno run --allow-all conformance/mutants/run.ts --out FILE
 *       [--case ID]... [--role ROLE]... [--bail] [--hit-limit N] [--list]
 *
 * The active mutant comes from `__STRYKER_ACTIVE_MUTANT__`. Stryker's
 * instrumented header reads it from `process.env` only when `process` is a
 * global and `__stryker__.activeMutant` is unset; this program sets the
 * namespace itself before anything from lib/ is imported (all imports below
 * are dynamic), so the mutant is active from the first line of lib/ on.
 *
 * Coverage: the instrumented code counts every mutant it passes in
 * `__stryker__.mutantCoverage`, under `perTest[currentTestId]` while a case
 * runs and under `static` otherwise (module loading, starting the targets).
 * What runs after the last case (stopping the targets) is not recorded.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { RunConfig } from "../context.ts";
import type { ConformanceCase, Verdict } from "../types.ts";

/** Stryker's global namespace, as its instrumented header uses it. */
interface StrykerNamespace {
  activeMutant?: string;
  currentTestId?: string;
  mutantCoverage?: {
    static: Record<string, number>;
    perTest: Record<string, Record<string, number>>;
  };
  hitCount?: number;
  hitLimit?: number;
}

/** One case's outcome, as written to `--out`. */
export interface CaseOutcomeJson {
  readonly id: string;
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly durationMs: number;
}

/** What `--out` receives. */
export interface RunOutput {
  readonly cases: CaseOutcomeJson[];
  readonly mutantCoverage?: StrykerNamespace["mutantCoverage"];
  /** The first error before any case could run (importing or starting the targets). */
  readonly startupError?: string;
  /** Set when the active mutant was hit more often than `--hit-limit` allows. */
  readonly hitLimitReached?: boolean;
  readonly hitCount?: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string" },
    case: { type: "string", multiple: true },
    role: { type: "string", multiple: true },
    bail: { type: "boolean" },
    "hit-limit": { type: "string" },
    list: { type: "boolean" },
  },
});

const ns: StrykerNamespace =
  ((globalThis as { __stryker__?: StrykerNamespace }).__stryker__ ??= {});
const active = Deno.env.get("__STRYKER_ACTIVE_MUTANT__");
ns.activeMutant = active === undefined || active === "" ? undefined : active;
if (values["hit-limit"] !== undefined) {
  ns.hitCount = 0;
  ns.hitLimit = Number(values["hit-limit"]);
}

/**
 * Code that runs in a timer (a registrar's heartbeat, peer checks,
 * keep-alives and expiries, an element's re-registration, a user's T1) counts
 * for the case running when it fires: a case can only observe what runs
 * while it runs, since every mutant's run starts fresh targets with only the
 * cases that reach it. Every case that looks at a timer lasts long enough for
 * the timer to fire within it.
 *
 * With `CONFORMANCE_MUTANTS_STATIC_TIMERS=1` such code counts as static
 * instead, so that a mutant there meets every case: thorough, and hours
 * slower (every surviving timer mutant runs the whole suite).
 */
function staticTimers(): void {
  const wrap = <F extends (...a: never[]) => unknown>(original: F): F =>
    ((callback: unknown, ms?: number, ...args: unknown[]) =>
      original(
        ...([() => {
          const current = ns.currentTestId;
          ns.currentTestId = undefined;
          try {
            (callback as (...a: unknown[]) => void)(...args);
          } finally {
            ns.currentTestId = current;
          }
        }, ms] as unknown as Parameters<F>),
      )) as unknown as F;
  globalThis.setTimeout = wrap(globalThis.setTimeout);
  globalThis.setInterval = wrap(globalThis.setInterval);
}
if (Deno.env.get("CONFORMANCE_MUTANTS_STATIC_TIMERS") === "1") staticTimers();

/** Errors nobody awaited (a mutant may throw in a timer): they fail the current case. */
const stray: string[] = [];
function strayError(e: unknown): void {
  stray.push(`uncaught: ${(e as Error)?.stack ?? String(e)}`);
}
globalThis.addEventListener("error", (ev) => {
  ev.preventDefault();
  strayError(ev.error);
});
globalThis.addEventListener("unhandledrejection", (ev) => {
  ev.preventDefault();
  strayError(ev.reason);
});

const hitLimitReached = () => ns.hitLimit !== undefined && (ns.hitCount ?? 0) > ns.hitLimit;

async function write(output: RunOutput): Promise<void> {
  const text = JSON.stringify(output);
  if (values.out === undefined) console.log(text);
  else await Deno.writeTextFile(values.out, text);
}

async function main(): Promise<number> {
  const results: CaseOutcomeJson[] = [];
  let all: readonly ConformanceCase[];
  let runCase: typeof import("../runner.ts").runCase;
  let targets: Awaited<
    ReturnType<typeof import("../builtin.ts").startBuiltinTargets>
  >;
  try {
    all = (await import("../cases/mod.ts")).ALL_CASES;
    if (values.list) {
      await write({
        cases: all.map((c) => ({ id: c.id, verdict: "OK", durationMs: 0 })),
      });
      return 0;
    }
    runCase = (await import("../runner.ts")).runCase;
    targets = await (await import("../builtin.ts")).startBuiltinTargets("rfc");
  } catch (e) {
    await write({
      cases: [],
      startupError: `${(e as Error)?.stack ?? String(e)}`,
      mutantCoverage: ns.mutantCoverage,
      hitLimitReached: hitLimitReached(),
      hitCount: ns.hitCount,
    });
    return 1;
  }
  const byCase = values.case === undefined ? all : (() => {
    const wanted = new Set(values.case);
    return all.filter((c) => wanted.has(c.id));
  })();
  const selected = values.role === undefined
    ? byCase
    : byCase.filter((c) => values.role!.includes(c.role));
  // As lib/cli/conformance.ts builds it for the built-in targets (profile rfc).
  const config: RunConfig = {
    asap: targets.asap,
    enrp: targets.enrp,
    profile: "rfc",
    timers: targets.timers,
    features: new Set(targets.features.filter((f) => f !== "nextgen-ids")),
    // The built-in run is strict (a NON-STRICT verdict would kill a mutant anyway).
    strict: true,
    listenHost: "127.0.0.1",
    element: targets.element,
    user: targets.user,
    registrar: targets.registrar,
    announce: targets.announce,
  };
  let coverage: StrykerNamespace["mutantCoverage"];
  try {
    for (const c of selected) {
      ns.currentTestId = c.id;
      stray.length = 0;
      const r = await runCase(c, config);
      ns.currentTestId = undefined;
      let { verdict, reason } = r;
      if (stray.length > 0 && (verdict === "OK" || verdict === "NON-STRICT")) {
        verdict = "FAILED";
        reason = stray.join("; ");
      }
      results.push({
        id: c.id,
        verdict,
        ...(reason === undefined ? {} : { reason }),
        durationMs: r.durationMs,
      });
      if (hitLimitReached()) break;
      if (values.bail && verdict !== "OK" && verdict !== "UNSUPPORTED") break;
    }
  } finally {
    ns.currentTestId = undefined;
    // Coverage up to the last case only: stopping the targets is no test.
    coverage = structuredClone(ns.mutantCoverage);
  }
  await write({
    cases: results,
    mutantCoverage: coverage,
    hitLimitReached: hitLimitReached(),
    hitCount: ns.hitCount,
  });
  // Stop the targets, but do not wait long on a mutant that broke stopping.
  await Promise.race([
    targets.stop().catch(() => {}),
    new Promise((r) => setTimeout(r, 2000)),
  ]);
  return 0;
}

// Mutants may leave timers or sockets behind: always exit explicitly.
Deno.exit(await main());
