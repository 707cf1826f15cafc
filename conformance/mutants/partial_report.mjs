/**
 * The partial report of a StrykerJS run (see partial-reporter.mjs): after
 * every tested mutant, a report in the mutation-testing-report-schema form
 * Stryker writes at the end (`reports/mutation.json`), holding the mutants
 * tested so far. No Stryker imports: Deno tests load it directly.
 */

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import process from "node:process";

/** Where the partial report goes, relative to the project root (Stryker's working directory). */
export const PARTIAL_REPORT = "conformance/mutants/reports/partial.json";

/** The report's key of a file: relative to the project root, with `/`. */
function fileKey(fileName) {
  const path = isAbsolute(fileName) ? relative(process.cwd(), fileName) : fileName;
  return path.split("\\").join("/");
}

/**
 * The partial report: Stryker's reporter events in, `partial.json` out
 * (partial-reporter.mjs registers it with Stryker).
 */
export class PartialReport {
  #file;
  #files = {};
  #tests = [];
  #started = new Date().toISOString();

  /** @param {string} file where to write the report */
  constructor(file = PARTIAL_REPORT) {
    this.#file = resolve(file);
  }

  onDryRunCompleted(event) {
    this.#tests = (event.result.tests ?? []).map((t) => ({
      id: t.id,
      name: t.name,
    }));
  }

  onMutationTestingPlanReady(event) {
    for (const plan of event.mutantPlans) {
      const key = fileKey(plan.mutant.fileName);
      this.#files[key] ??= {
        language: "typescript",
        source: readFileSync(plan.mutant.fileName, "utf8"),
        mutants: [],
      };
    }
    this.#write();
  }

  onMutantTested(result) {
    const key = fileKey(result.fileName);
    const entry = this.#files[key] ??= {
      language: "typescript",
      source: readFileSync(result.fileName, "utf8"),
      mutants: [],
    };
    entry.mutants.push({
      id: result.id,
      mutatorName: result.mutatorName,
      replacement: result.replacement,
      location: result.location,
      status: result.status,
      statusReason: result.statusReason,
      coveredBy: result.coveredBy,
      killedBy: result.killedBy,
      static: result.static,
    });
    this.#write();
  }

  #write() {
    const report = {
      schemaVersion: "1",
      thresholds: { high: 80, low: 60 },
      partial: { started: this.#started, written: new Date().toISOString() },
      files: this.#files,
      testFiles: { "": { tests: this.#tests } },
    };
    mkdirSync(dirname(this.#file), { recursive: true });
    const temporary = `${this.#file}.tmp`;
    writeFileSync(temporary, JSON.stringify(report));
    renameSync(temporary, this.#file); // readers never see half a file
  }
}
