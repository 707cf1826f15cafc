/**
 * The planted-fault sample (planted.ts) in CI: every case of the sample
 * passes against an unmodified copy of the built-in targets, and fails
 * (FAILED or NON-STRICT) with its fault planted. Each run starts fresh
 * targets in a child process (`deno run lib/cli/bin.ts conformance`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PLANTED_FAULTS, PlantedCopy } from "./planted.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

Deno.test("the conformance suite catches every planted fault of the sample", async (t) => {
  const copy = new PlantedCopy(ROOT);
  try {
    const cases = PLANTED_FAULTS.map((f) => f.case);
    await t.step("without faults every case of the sample passes", async () => {
      const verdicts = await copy.verdicts(cases);
      // Tests run in parallel: a case that lost to the load gets one more run alone.
      const again = cases.filter((c) => verdicts.get(c) !== "OK");
      if (again.length > 0) {
        for (const [c, v] of await copy.verdicts(again)) verdicts.set(c, v);
      }
      for (const c of cases) {
        assert.equal(verdicts.get(c), "OK", `${c} without any fault`);
      }
    });
    for (const fault of PLANTED_FAULTS) {
      await t.step(fault.name, async () => {
        const remove = copy.plant(fault);
        try {
          const verdict = (await copy.verdicts([fault.case])).get(fault.case);
          assert.ok(
            verdict === "FAILED" || verdict === "NON-STRICT",
            `${fault.case} should catch "${fault.name}" (${fault.file}); its verdict: ${verdict}`,
          );
        } finally {
          remove();
        }
      });
    }
  } finally {
    copy.dispose();
  }
});
