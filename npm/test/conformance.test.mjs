// The conformance suite from the installed package, on Node, against the built-in registrar.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_CASES, runConformance, startBuiltinTargets } from "rserpool/conformance";

test("registrar cases pass on Node", async () => {
  const builtin = await startBuiltinTargets();
  try {
    const report = await runConformance(ALL_CASES, {
      config: {
        asap: builtin.asap,
        enrp: builtin.enrp,
        profile: "rfc",
        timers: builtin.timers,
        features: new Set(builtin.features.filter((f) => f !== "nextgen-ids")),
        strict: true,
        listenHost: "127.0.0.1",
        element: builtin.element,
        user: builtin.user,
      },
      cases: [
        "asap/registrar/registration",
        "enrp/registrar/handle-update",
        "asap/user/failover",
      ],
    });
    assert.deepEqual(
      report.cases.filter((c) => c.verdict !== "OK").map((c) => `${c.id}: ${c.reason}`),
      [],
    );
    assert.ok(report.summary.total >= 11);
  } finally {
    await builtin.stop();
  }
});
