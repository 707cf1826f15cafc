/**
 * Tests of the choice of cases for static mutants (static_roles.mjs).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ALL_CASES } from "../cases/mod.ts";
import { staticRoles } from "./static_roles.mjs";

Deno.test("static mutants of the element and the user meet only their roles' cases", () => {
  assert.deepEqual(staticRoles("/x/sandbox-1/lib/element/element.ts"), [
    "element",
  ]);
  assert.deepEqual(staticRoles("lib/user/user.ts"), ["user"]);
  assert.deepEqual(staticRoles("C:\\sandbox\\lib\\user\\user.ts"), ["user"]);
  for (
    const f of [
      "lib/registrar/asap.ts",
      "lib/policy/selection.ts",
      "lib/handlespace/pool.ts",
    ]
  ) {
    assert.equal(staticRoles(f), undefined, f);
  }
  // Those roles have cases, and only their cases start the built-in element or user.
  const roles = new Set(ALL_CASES.map((c) => c.role));
  assert.ok(roles.has("element") && roles.has("user"));
});
