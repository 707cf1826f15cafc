/**
 * A StrykerJS test runner that runs the conformance suite under Deno: each
 * run is a fresh `deno run conformance/mutants/run.ts` in the sandbox (the
 * worker's working directory), with the active mutant in
 * `__STRYKER_ACTIVE_MUTANT__`. Every conformance case is one Stryker test
 * (id and name: the case id).
 *
 * - dryRun: every case once, with per-case mutant coverage.
 * - mutantRun: the cases of `testFilter` (all when absent), stopping at the
 *   first case whose verdict is not OK/UNSUPPORTED unless `disableBail`. Any
 *   such verdict (NON-STRICT too) kills the mutant; the run timing out, or
 *   the mutant being hit more than `hitLimit` times, is a Timeout.
 *
 * The Deno binary: `STRYKER_DENO` when set (conformance/mutants/main.ts sets
 * it), else this process's own when it is Deno 2.9.6, else the one of
 * `npx -y deno@2.9.6`, looked up once per worker.
 */

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { commonTokens, declareClassPlugin, PluginKind, tokens } from "@stryker-mutator/api/plugin";
import { DryRunStatus, MutantRunStatus, TestStatus } from "@stryker-mutator/api/test-runner";
import { staticRoles } from "./static_roles.mjs";

export const DENO_VERSION = "2.9.6";
const RUN_SCRIPT = "conformance/mutants/run.ts";

/** The path of the Deno binary to run the child with. */
function findDeno() {
  if (process.env.STRYKER_DENO) return process.env.STRYKER_DENO;
  if (globalThis.Deno?.version?.deno === DENO_VERSION) {
    return globalThis.Deno.execPath();
  }
  return execFileSync(
    "npx",
    ["-y", `deno@${DENO_VERSION}`, "eval", "console.log(Deno.execPath())"],
    { encoding: "utf8" },
  ).trim();
}

/** Every child still running, so that none outlives this worker. */
const running = new Set();
function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}
process.on("exit", () => {
  for (const child of running) killGroup(child);
});
// The children run in process groups of their own (so that a timeout kills all
// of one): a worker stopped by a signal takes them along.
for (
  const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]]
) {
  process.on(signal, () => {
    for (const child of running) killGroup(child);
    process.exit(code);
  });
}

export class DenoConformanceRunner {
  static inject = tokens(commonTokens.logger);
  #log;
  #deno;
  #dir;
  #runs = 0;
  #active;

  constructor(logger) {
    this.#log = logger;
  }

  capabilities() {
    // Every run is a new process.
    return { reloadEnvironment: true };
  }

  init() {
    this.#deno = findDeno();
    this.#dir = mkdtempSync(join(tmpdir(), "stryker-deno-"));
    this.#log.debug(`deno ${this.#deno}, working directory ${process.cwd()}`);
  }

  dispose() {
    if (this.#active) killGroup(this.#active);
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    return Promise.resolve();
  }

  /**
   * Runs the child; resolves with its output, or `{ timedOut }` after
   * `timeout` ms (the child's process group killed), or `{ error }`.
   */
  #run({ cases, roles, bail, timeout, mutant, hitLimit }) {
    const out = join(this.#dir, `run-${++this.#runs}.json`);
    const args = [
      "run",
      "--allow-all",
      "--quiet",
      "--no-lock",
      RUN_SCRIPT,
      "--out",
      out,
    ];
    for (const id of cases ?? []) args.push("--case", id);
    for (const role of roles ?? []) args.push("--role", role);
    if (bail) args.push("--bail");
    if (hitLimit !== undefined) args.push("--hit-limit", String(hitLimit));
    const env = { ...process.env, NO_COLOR: "1" };
    delete env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant !== undefined) env.__STRYKER_ACTIVE_MUTANT__ = mutant;
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn(this.#deno, args, {
        cwd: process.cwd(),
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      this.#active = child;
      running.add(child);
      let tail = "";
      const keep = (d) => tail = (tail + d).slice(-4000);
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      let timedOut = false;
      // A little before Stryker's own timer, so that the worker needs no restart.
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, Math.max(1000, timeout - 250));
      const finish = (code, signal) => {
        clearTimeout(timer);
        running.delete(child);
        if (this.#active === child) this.#active = undefined;
        // Whatever the child may have left in its group.
        killGroup(child);
        const elapsedMs = Date.now() - started;
        if (timedOut) return resolve({ timedOut: true, elapsedMs });
        let output;
        try {
          output = JSON.parse(readFileSync(out, "utf8"));
          rmSync(out, { force: true });
        } catch {
          return resolve({
            error: `deno exited (${signal ?? code}) without results: ${tail.trim()}`,
            elapsedMs,
          });
        }
        resolve({ output, elapsedMs, exit: signal ?? code, tail });
      };
      child.on("error", (e) => {
        clearTimeout(timer);
        running.delete(child);
        resolve({
          error: `cannot run ${this.#deno}: ${e.message}`,
          elapsedMs: 0,
        });
      });
      child.on("exit", finish);
    });
  }

  async dryRun(options) {
    const r = await this.#run({ bail: false, timeout: options.timeout });
    if (r.timedOut) {
      return {
        status: DryRunStatus.Timeout,
        reason: `after ${r.elapsedMs} ms`,
      };
    }
    if (r.error) return { status: DryRunStatus.Error, errorMessage: r.error };
    const { output } = r;
    if (output.startupError) {
      return { status: DryRunStatus.Error, errorMessage: output.startupError };
    }
    const tests = output.cases.map((c) => {
      const base = { id: c.id, name: c.id, timeSpentMs: c.durationMs };
      if (c.verdict === "OK") return { ...base, status: TestStatus.Success };
      if (c.verdict === "UNSUPPORTED") {
        return { ...base, status: TestStatus.Skipped };
      }
      return { ...base, status: TestStatus.Failed, failureMessage: message(c) };
    });
    const coverage = output.mutantCoverage ?? { static: {}, perTest: {} };
    return {
      status: DryRunStatus.Complete,
      tests,
      mutantCoverage: {
        static: coverage.static ?? {},
        perTest: coverage.perTest ?? {},
      },
    };
  }

  async mutantRun(options) {
    const r = await this.#run({
      cases: options.testFilter,
      roles: options.testFilter === undefined
        ? staticRoles(options.activeMutant.fileName)
        : undefined,
      bail: !options.disableBail,
      timeout: options.timeout,
      mutant: options.activeMutant.id,
      hitLimit: options.hitLimit,
    });
    if (r.timedOut) {
      return {
        status: MutantRunStatus.Timeout,
        reason: `the conformance run took longer than ${options.timeout} ms`,
        duration: r.elapsedMs,
      };
    }
    if (r.error) {
      // Deno died without writing anything: a mutant that crashes the process
      // (the normal `deno task conformance` would die as well).
      return {
        status: MutantRunStatus.Killed,
        killedBy: [],
        failureMessage: r.error,
        nrOfTests: 0,
        duration: r.elapsedMs,
      };
    }
    const { output } = r;
    if (output.hitLimitReached) {
      return {
        status: MutantRunStatus.Timeout,
        reason: `hit limit reached (${output.hitCount}/${options.hitLimit})`,
        duration: r.elapsedMs,
      };
    }
    if (output.startupError) {
      return {
        status: MutantRunStatus.Killed,
        killedBy: [],
        failureMessage: `the built-in targets did not start: ${output.startupError}`,
        nrOfTests: 0,
        duration: r.elapsedMs,
      };
    }
    const failed = output.cases.filter((c) => c.verdict !== "OK" && c.verdict !== "UNSUPPORTED");
    const duration = output.cases.reduce((t, c) => t + c.durationMs, 0);
    if (failed.length > 0) {
      return {
        status: MutantRunStatus.Killed,
        killedBy: failed.map((c) => c.id),
        failureMessage: failed.map(message).join("\n"),
        nrOfTests: output.cases.length,
        duration,
      };
    }
    const wanted = options.testFilter?.length;
    if (wanted !== undefined && output.cases.length < wanted) {
      // A filter naming cases that no longer exist would be a bug here.
      this.#log.warn(
        `ran ${output.cases.length} of ${wanted} cases for mutant ${options.activeMutant.id}`,
      );
    }
    return {
      status: MutantRunStatus.Survived,
      nrOfTests: output.cases.length,
      duration,
    };
  }
}

function message(c) {
  return `case ${c.id}: ${c.verdict}${c.reason === undefined ? "" : ` — ${c.reason}`}`;
}

export const strykerPlugins = [
  declareClassPlugin(
    PluginKind.TestRunner,
    "deno-conformance",
    DenoConformanceRunner,
  ),
];
