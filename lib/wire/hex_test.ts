import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../errors.ts";
import { parseHex, toHex } from "./hex.ts";

Deno.test("hex round trip", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => assert.deepEqual(parseHex(toHex(b)), b)),
  );
});

Deno.test("hex with prefix, case and separators", () => {
  assert.deepEqual(parseHex("0x0A0b"), new Uint8Array([10, 11]));
  assert.deepEqual(parseHex("  0a:0b-0c 0d\n0e\t"), new Uint8Array([10, 11, 12, 13, 14]));
  assert.deepEqual(parseHex(""), new Uint8Array());
});

Deno.test("bad hex throws DecodeError with the offset", () => {
  const cases: [string, number][] = [["0g", 1], ["abc", 2], ["a b", 1], ["zz", 0], ["0x12x4", 4]];
  for (const [text, offset] of cases) {
    assert.throws(
      () => parseHex(text),
      (e) => e instanceof DecodeError && e.code === "bad-value" && e.offset === offset,
    );
  }
  assert.throws(
    () => parseHex("00".repeat(600_000)),
    (e) => e instanceof DecodeError && e.code === "limit-exceeded",
  );
});
