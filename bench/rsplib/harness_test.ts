/**
 * Runs `deno task bench:rsplib --quick` on a few cases and checks that the
 * RSPLIB harness built, passed its ABI checks and produced positive, finite
 * rates and ratios. Skipped (reason printed) where RSPLIB cannot be built or
 * run (the task exits 3: no compiler, packages missing and not root, ...).
 */
import assert from "node:assert/strict";

interface Report {
  readonly abi: { readonly passed: boolean; readonly checks: number };
  readonly rows: readonly {
    readonly case: string;
    readonly kind: string;
    readonly ours: { readonly opsPerSecond: number; readonly rounds: readonly number[] };
    readonly rsplib: { readonly opsPerSecond: number; readonly rounds: readonly number[] };
    readonly ratio: number;
    readonly copy?: { readonly ours: number; readonly rsplib: number; readonly ratio: number };
  }[];
  readonly checksums: readonly { readonly case: string; readonly match: boolean }[];
  readonly machine: { readonly cpu: string; readonly deno: string; readonly date: string };
}

const script = new URL("../rsplib.ts", import.meta.url);
const json = await Deno.makeTempFile({ prefix: "bench-rsplib-", suffix: ".json" });
const output = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-run",
    "--allow-env",
    "--allow-sys",
    script.href,
    "--quick",
    "--rounds",
    "3",
    "--filter",
    "codec",
    "--filter",
    "RoundRobin 1x100",
    "--filter",
    "checksum 1x100",
    "--json",
    json,
  ],
  stdout: "piped",
  stderr: "piped",
}).output();
const stdout = new TextDecoder().decode(output.stdout);
const stderr = new TextDecoder().decode(output.stderr);
const unavailable = output.code === 3;
if (unavailable) {
  console.log(
    `skipping the RSPLIB harness test: ${stderr.trim().split("\n").slice(-3).join(" ")}`,
  );
}

Deno.test({
  name: "bench:rsplib --quick builds the RSPLIB harness, passes its ABI checks, gives ratios",
  ignore: unavailable,
  async fn() {
    try {
      assert.equal(output.code, 0, `exit ${output.code}\n${stderr}`);
      const report = JSON.parse(await Deno.readTextFile(json)) as Report;
      assert.ok(report.abi.passed && report.abi.checks > 0, "ABI checks not reported as passed");
      assert.ok(stdout.includes("ABI checks passed"), stdout);
      assert.ok(
        report.machine.cpu !== "" && report.machine.deno !== "" && report.machine.date !== "",
      );

      const cases = new Set(report.rows.map((r) => r.case));
      for (
        const expected of [
          "codec Registration: decode strict / parse",
          "codec Registration: decode lenient / parse",
          "codec Registration: encode / create",
          "codec Registration: encodeInto / create",
          "codec HandleResolutionResponse (3 PEs): encode / create",
          "codec HandleTableResponse (128 PEs): encode / create",
          "codec mix: decode lenient / parse",
          "codec mix: encode / create",
          "register RoundRobin 1x100",
          "deregister RoundRobin 1x100",
          "resolve1 RoundRobin 1x100",
          "resolve3 RoundRobin 1x100",
          "checksum 1x100",
          "checksum 1x1000",
        ]
      ) {
        assert.ok(cases.has(expected), `no row "${expected}"`);
      }
      const positive = (x: number) => Number.isFinite(x) && x > 0;
      for (const r of report.rows) {
        assert.ok(positive(r.ours.opsPerSecond), `${r.case}: ours ${r.ours.opsPerSecond}`);
        assert.ok(positive(r.rsplib.opsPerSecond), `${r.case}: RSPLIB ${r.rsplib.opsPerSecond}`);
        assert.ok(positive(r.ratio), `${r.case}: ratio ${r.ratio}`);
        // Three blocks of one round per side; the ratio is the median of the blocks' ratios.
        assert.equal(r.ours.rounds.length, 3, r.case);
        assert.equal(r.rsplib.rounds.length, 3, r.case);
        const ratios = r.ours.rounds.map((x, i) => x / r.rsplib.rounds[i]).sort((a, b) => a - b);
        assert.equal(r.ratio, ratios[1], `${r.case}: ratio is not the median of the blocks'`);
        if (r.copy !== undefined) {
          assert.ok(positive(r.copy.ours) && positive(r.copy.rsplib) && positive(r.copy.ratio));
        }
      }
      assert.equal(report.rows.filter((r) => r.copy !== undefined).length, 4);
      assert.ok(report.checksums.length === 2 && report.checksums.every((c) => c.match));
    } finally {
      await Deno.remove(json);
    }
  },
});
