// Every subpath of the installed package imports on Node and exports what its docs promise.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

const manifest = JSON.parse(
  await readFile(
    new URL("./node_modules/rserpool/package.json", import.meta.url),
    "utf8",
  ),
);

const EXPECTED = {
  ".": [
    "decodeMessage",
    "encodeAsap",
    "DecodeError",
    "Handlespace",
    "Registrar",
    "PoolUser",
  ],
  "./protocol": ["decodeAsap", "decodeEnrp", "encodeMessage", "Ppid"],
  "./capture": ["readCapture", "decodeCapturedMessage"],
  "./handlespace": ["Handlespace"],
  "./policy": ["SeededRandom"],
  "./registrar": ["Registrar", "RFC_REGISTRAR_TIMERS"],
  "./element": ["PoolElement"],
  "./user": ["PoolUser"],
  "./transport": ["StreamTransport", "UdpChannel", "MessageDeframer"],
  "./runtime": [
    "startRegistrar",
    "registerPoolElement",
    "createPoolUser",
    "echoService",
  ],
  "./conformance": [
    "ALL_CASES",
    "runConformance",
    "startBuiltinTargets",
    "checkCapture",
  ],
  "./sim": ["Simulation"],
  "./cli": ["main", "processIo"],
};

test("every export of package.json is listed here", () => {
  const listed = new Set([...Object.keys(EXPECTED), "./bin"]);
  assert.deepEqual(
    Object.keys(manifest.exports).filter((k) => !listed.has(k)),
    [],
  );
});

for (const [subpath, names] of Object.entries(EXPECTED)) {
  test(`import "rserpool${subpath.slice(1)}"`, async () => {
    const module = await import(`rserpool${subpath.slice(1)}`);
    for (const name of names) {
      assert.ok(name in module, `${subpath} exports ${name}`);
    }
  });
}
