/**
 * StrykerJS configuration: how many faults in the registrar, handlespace,
 * policies, pool element and pool user does the conformance suite catch?
 * Run through `deno task conformance:mutants` (conformance/mutants/main.ts),
 * which runs Stryker from the project root with
 * `--configFile conformance/mutants/stryker.config.mjs`: every path here is
 * relative to the root.
 */

import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
if (resolve(process.cwd()) !== ROOT) {
  throw new Error(
    `run Stryker from the project root (${ROOT}), e.g. deno task conformance:mutants`,
  );
}

const HERE = "conformance/mutants";

/** The code under test: what the built-in targets run and the suite can observe. */
export const MUTATE = [
  "lib/registrar/**/*.ts",
  "lib/handlespace/**/*.ts",
  "lib/policy/**/*.ts",
  "lib/element/**/*.ts",
  "lib/user/**/*.ts",
  "!**/*_test.ts",
  "!**/mod.ts",
];

export default {
  testRunner: "deno-conformance",
  plugins: [
    `./${HERE}/deno-runner.mjs`,
    `./${HERE}/ignorers.mjs`,
    `./${HERE}/partial-reporter.mjs`,
  ],
  ignorers: ["conformance-wire"],
  mutate: MUTATE,
  coverageAnalysis: "perTest",
  concurrency: 2,
  // Mutants that slow a case down until its own time limit are timeouts, not kills.
  timeoutMS: 5000,
  timeoutFactor: 1.5,
  dryRunTimeoutMinutes: 20,
  // conformance-partial: reports/partial.json after every mutant (partial-reporter.mjs).
  reporters: ["json", "html", "clear-text", "progress", "conformance-partial"],
  jsonReporter: { fileName: `${HERE}/reports/mutation.json` },
  htmlReporter: { fileName: `${HERE}/reports/mutation.html` },
  // summary.ts lists the survivors; Stryker's own lists are long.
  clearTextReporter: {
    allowColor: false,
    reportTests: false,
    reportMutants: false,
    reportScoreTable: true,
  },
  incrementalFile: `${HERE}/reports/stryker-incremental.json`,
  tempDirName: `${HERE}/.stryker-tmp`,
  cleanTempDir: true,
  // The sandbox holds only what `deno run conformance/mutants/run.ts` loads.
  ignorePatterns: [
    "/*",
    "!/deno.json",
    "!/deno.lock",
    "!/lib/",
    "!/conformance/",
    "/conformance/testdata/",
    "/conformance/interop/",
    `/${HERE}/reports/`,
    `/${HERE}/*.json`,
    "*.md",
  ],
  // Deno runs TypeScript without type checking; no checker, no tsconfig.
  disableTypeChecks: false,
  warnings: { slow: false },
  logLevel: "info",
  fileLogLevel: "off",
};
