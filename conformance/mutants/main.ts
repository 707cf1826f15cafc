/**
 * `deno task conformance:mutants`: mutation testing of the conformance suite.
 *
 * 1. Installs StrykerJS (conformance/mutants/package.json) with `npm ci`
 *    when it is missing.
 * 2. Runs Stryker from the project root with stryker.config.mjs, under this
 *    Deno (Stryker 10 needs Node.js 22 or later; Deno provides its Node API).
 *    The test runner deno-runner.mjs runs run.ts with the same Deno binary.
 * 3. Prints summary.ts's summary of the JSON report.
 *
 * Options: any Stryker option (`--mutate lib/registrar/takeover.ts`,
 * `--concurrency 1`, `--incremental`, `--logLevel debug`...). A `--mutate`
 * given here leaves out `*_test.ts` and `mod.ts` files as the configuration
 * does. Own options: `--strict` (exit 1 when a survivor is not explained in
 * conformance/MUTANTS.md), `--summary-only` (no Stryker run), `--partial`
 * (with `--summary-only`: summarise `reports/partial.json`, the mutants a
 * running or stopped run has tested so far).
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { summaryMain } from "./summary.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const STRYKER_VERSION = "10.1.1";

function say(text: string): void {
  console.error(`conformance:mutants: ${text}`);
}

async function run(
  command: string,
  args: string[],
  cwd: string,
  env?: Record<string, string>,
) {
  const { code } = await new Deno.Command(command, {
    args,
    cwd,
    env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

/**
 * Stryker's arguments: a `--mutate` keeps the configuration's exclusions, and
 * several `--mutate` options add up (Stryker itself keeps only the last).
 */
export function strykerArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  const patterns: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if ((a === "--mutate" || a === "-m") && i + 1 < args.length) {
      patterns.push(args[++i]);
    } else if (a.startsWith("--mutate=")) {
      patterns.push(a.slice("--mutate=".length));
    } else out.push(a);
  }
  if (patterns.length > 0) {
    out.push(
      "--mutate",
      [...patterns, "!**/*_test.ts", "!**/mod.ts"].join(","),
    );
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const strict = argv.includes("--strict");
  const summaryOnly = argv.includes("--summary-only");
  const partial = argv.includes("--partial");
  if (partial && !summaryOnly) {
    say(
      "--partial goes with --summary-only (a run writes reports/partial.json as it goes)",
    );
    return 2;
  }
  const args = argv.filter((a) => a !== "--strict" && a !== "--summary-only" && a !== "--partial");

  if (!summaryOnly) {
    const installed = join(
      HERE,
      "node_modules",
      "@stryker-mutator",
      "core",
      "package.json",
    );
    if (
      !existsSync(installed) ||
      JSON.parse(readFileSync(installed, "utf8")).version !== STRYKER_VERSION
    ) {
      say("installing StrykerJS (npm ci)");
      const code = await run("npm", [
        "ci",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
      ], HERE);
      if (code !== 0) return code;
    }
    const bin = join(
      HERE,
      "node_modules",
      "@stryker-mutator",
      "core",
      "bin",
      "stryker.js",
    );
    const config = relative(ROOT, join(HERE, "stryker.config.mjs"));
    const started = Date.now();
    const code = await run(
      Deno.execPath(),
      [
        "run",
        "--allow-all",
        "--no-lock",
        bin,
        "run",
        config,
        ...strykerArgs(args),
      ],
      ROOT,
      { STRYKER_DENO: Deno.execPath(), NO_COLOR: "1" },
    );
    say(
      `Stryker exited with ${code} after ${Math.round((Date.now() - started) / 1000)} s`,
    );
    if (code !== 0) return code;
  }
  const summaryArgs = strict ? ["--strict"] : [];
  if (partial) {
    summaryArgs.push(
      "--report",
      join(HERE, "reports", "partial.json"),
      "--out",
      join(HERE, "reports", "partial-survivors.json"),
    );
  }
  return await summaryMain(summaryArgs);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
