// The package's `rserpool` executable.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(
  new URL("./node_modules/.bin/rserpool", import.meta.url),
);

test("rserpool --help lists the commands", () => {
  const out = execFileSync(bin, ["--help"], { encoding: "utf8" });
  for (const command of ["registrar", "element", "user", "status", "decode"]) {
    assert.match(out, new RegExp(`\\n  ${command} `));
  }
});

test("rserpool decode prints JSON", () => {
  const out = execFileSync(bin, [
    "decode",
    "--ppid",
    "asap",
    "0500001c0009000d536574412e4563686f000000803f000800000001",
  ], { encoding: "utf8" });
  assert.equal(JSON.parse(out).message.type, "HandleResolution");
});

test("usage errors exit with status 2", () => {
  const r = spawnSync(bin, ["registrar", "--profile", "v9"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--profile: expected rfc or nextgen/);
});
