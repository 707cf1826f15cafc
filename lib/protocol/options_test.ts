import assert from "node:assert/strict";
import { DEFAULT_DECODE_LIMITS, resolveDecodeOptions } from "./options.ts";

Deno.test("decode options: defaults, lenient flag and profile resolve as given", () => {
  for (const lenient of [undefined, false, true]) {
    for (const own of [undefined, "rfc", "nextgen"] as const) {
      for (const forced of [undefined, "rfc", "nextgen"] as const) {
        const r = resolveDecodeOptions({ lenient, profile: own }, forced);
        assert.equal(r.lenient, lenient === true, `lenient ${lenient}`);
        assert.equal(r.nextgen, (forced ?? own) === "nextgen", `profile ${own}/${forced}`);
        assert.equal(r.limits, DEFAULT_DECODE_LIMITS);
        assert.equal(r.onUnrecognizedParameter, undefined);
      }
    }
  }
  assert.equal(resolveDecodeOptions(undefined).nextgen, false);
  assert.equal(resolveDecodeOptions(undefined, "nextgen").nextgen, true);
  assert.equal(resolveDecodeOptions(undefined).lenient, false);
});

Deno.test("decode options: a fresh { lenient: true } per call allocates no resolution", () => {
  // The registrar's and users' common literal: resolved to one shared object.
  assert.equal(resolveDecodeOptions({ lenient: true }), resolveDecodeOptions({ lenient: true }));
  assert.equal(
    resolveDecodeOptions({ lenient: true, profile: "nextgen" }),
    resolveDecodeOptions({ lenient: true }, "nextgen"),
  );
});

Deno.test("decode options: limits and callbacks are kept and resolved once per object", () => {
  const seen: number[] = [];
  const options = {
    limits: { maxPoolElements: 2 },
    onUnrecognizedParameter: (p: { type: number }) => seen.push(p.type),
  };
  const r = resolveDecodeOptions(options);
  assert.equal(r.limits.maxPoolElements, 2);
  assert.equal(r.limits.maxPoolHandleLength, DEFAULT_DECODE_LIMITS.maxPoolHandleLength);
  assert.equal(r.onUnrecognizedParameter, options.onUnrecognizedParameter);
  assert.equal(resolveDecodeOptions(options), r);
  const nextgen = resolveDecodeOptions(options, "nextgen");
  assert.equal(nextgen.nextgen, true);
  assert.equal(nextgen.limits.maxPoolElements, 2);
});
