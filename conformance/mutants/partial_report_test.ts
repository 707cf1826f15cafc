/**
 * Tests of partial_report.mjs: Stryker's reporter events in, a report that
 * summary.ts reads as it reads Stryker's final report.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import { PartialReport } from "./partial_report.mjs";
import { type MutationReport, summarize } from "./summary.ts";

Deno.test("the partial report holds the mutants tested so far, readable by the summary", () => {
  const dir = mkdtempSync(join(tmpdir(), "partial-report-"));
  try {
    const source = join(dir, "code.ts");
    writeFileSync(source, "export const f = (a: number) => a < 1;\n");
    const out = join(dir, "reports", "partial.json");
    const report = new PartialReport(out);
    const at = (column: number, end: number) => ({
      start: { line: 1, column },
      end: { line: 1, column: end },
    });
    const mutant = (
      id: string,
      status: string,
      replacement: string,
      column: number,
    ) => ({
      id,
      fileName: source,
      mutatorName: "EqualityOperator",
      replacement,
      location: at(column, column + 5),
      status,
      coveredBy: ["case/a"],
      killedBy: status === "Killed" ? ["case/a"] : [],
      static: false,
    });
    report.onDryRunCompleted({
      result: { tests: [{ id: "case/a", name: "case/a" }] },
    });
    report.onMutationTestingPlanReady({
      mutantPlans: [{ mutant: mutant("1", "", "", 33) }],
    });
    const read = () => JSON.parse(readFileSync(out, "utf8")) as MutationReport;
    const key = relative(process.cwd(), source).split("\\").join("/");
    assert.deepEqual(read().files[key].mutants, [], "nothing tested yet");

    report.onMutantTested(mutant("1", "Killed", "a <= 1", 33));
    report.onMutantTested(mutant("2", "Survived", "a > 1", 33));
    const summary = summarize(read());
    assert.equal(summary.overall.total, 2);
    assert.equal(summary.overall.killed, 1);
    assert.equal(summary.overall.survived, 1);
    assert.deepEqual(
      summary.survivors.map((s) => [s.id, s.original, s.replacement]),
      [["2", "a < 1", "a > 1"]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
