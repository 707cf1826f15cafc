/**
 * The fuzzing harnesses in the normal test run: the regression corpus of
 * past findings and hand-made edge cases (fuzz/corpus/TARGET/*.hex) is
 * replayed through every property, each target runs a few hundred inputs
 * from a fixed seed, and the engine itself is shown to find, classify and
 * shrink planted bugs.
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { DecodeError } from "../lib/errors.ts";
import { parseHex } from "../lib/wire/hex.ts";
import { installAllocationGuard } from "./allocation.ts";
import { fuzz, runOnce } from "./engine.ts";
import { mutateBytes } from "../lib/testing/mutate.ts";
import { type FuzzTarget, TARGETS } from "./targets.ts";

// Test modules run in isolates of their own: the guard stays in this one.
installAllocationGuard();

const CORPUS = fileURLToPath(new URL("./corpus/", import.meta.url));

Deno.test("fuzz corpus: every past finding and edge case passes every property", async () => {
  let replayed = 0;
  for (const dir of readdirSync(CORPUS)) {
    const target = TARGETS.get(dir);
    assert.ok(target !== undefined, `fuzz/corpus/${dir} names no target`);
    for (const file of readdirSync(join(CORPUS, dir)).filter((f) => f.endsWith(".hex"))) {
      const input = parseHex(readFileSync(join(CORPUS, dir, file), "utf8"));
      const outcome = await runOnce(target, input);
      assert.equal(outcome, undefined, `${dir}/${file}: ${outcome?.message}`);
      replayed++;
    }
  }
  assert.ok(replayed >= 10, `only ${replayed} corpus inputs`);
});

Deno.test("fuzz targets: a few hundred inputs each from a fixed seed, no failure", async () => {
  for (const target of TARGETS.values()) {
    const { stats, failures } = await fuzz({ target, seed: 42, runs: 300 });
    assert.equal(stats.execs, 300, target.name);
    assert.deepEqual(failures.map((f) => f.signature), [], target.name);
  }
});

/** A parser with two planted bugs, each behind a byte pattern. */
function plantedParser(input: Uint8Array): void {
  if (input.length < 2) throw new DecodeError("truncated", 0, "short");
  if (input[0] === 0x42) throw new TypeError("planted crash");
  if (input[0] === 0x99) new Uint8Array(((input[1] << 8) | 1) * 4096); // sized by a length field
}

const planted: FuzzTarget = {
  name: "planted",
  description: "test parser with planted bugs",
  run(input) {
    try {
      plantedParser(input);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e; // the parser's own error is allowed
    }
  },
  seeds: () => [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])],
  generate: fc.uint8Array({ minLength: 2, maxLength: 16 }),
  mutate: mutateBytes,
};

Deno.test("fuzz engine: finds, classifies and shrinks planted bugs; typed errors are no failure", async () => {
  const { failures } = await fuzz({ target: planted, seed: 1, runs: 50_000 });
  const crash = failures.find((f) => f.kind === "crash");
  const allocation = failures.find((f) => f.kind === "allocation");
  assert.ok(crash !== undefined, "the planted crash was found");
  assert.match(crash.message, /TypeError: planted crash/);
  assert.equal(crash.input.length, 2, "shrunk to the shortest input that still fails");
  assert.equal(crash.input[0], 0x42);
  assert.ok(allocation !== undefined, "the oversized allocation was found");
  assert.equal(allocation.input[0], 0x99);
  assert.equal(allocation.input.length, 2);
  assert.equal(failures.length, 2, "DecodeError is the parser's own error, not a failure");
});

Deno.test("fuzz engine: the same seed gives the same run", async () => {
  const target = TARGETS.get("asap-message")!;
  const seen: string[][] = [[], []];
  for (const i of [0, 1]) {
    await fuzz({
      target,
      seed: 9,
      runs: 50,
      before: (input) => seen[i].push(Array.from(input.subarray(0, 8)).join(",")),
    });
  }
  assert.deepEqual(seen[0], seen[1]);
  assert.ok(existsSync(CORPUS));
});
