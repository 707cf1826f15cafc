/**
 * The planted-bug check in the normal test run: every bug of `planted.ts`
 * (exact 8/16/32/64-bit values, 8- and 16-byte strings, a relation between
 * fields, a value deep in nested parameters) is found in its test-only
 * copy within 60 s on one core. `deno task fuzz:planted` prints the times.
 */

import assert from "node:assert/strict";
import { huntPlanted } from "./planted_main.ts";
import { PLANTED } from "./planted.ts";

for (const bug of PLANTED) {
  Deno.test(`planted bug found within 60 s: ${bug.name} (${bug.kind})`, async () => {
    const r = await huntPlanted(bug, { timeMs: 60_000, seed: 1, feedback: true });
    assert.ok(r.found, `${bug.name} not found in ${r.seconds.toFixed(1)} s (${r.execs} execs)`);
  });
}
