/**
 * Tests of the fuzzer's guidance: the instrumentation keeps the code's
 * meaning while counting edges and recording comparisons, the feedback
 * tells new coverage from old, input-to-state replacement writes the wanted
 * value where the seen one was, and dictionaries parse and derive.
 */

import assert from "node:assert/strict";
import { inputToState, spliceParameterValue } from "./cmplog.ts";
import {
  automaticDictionary,
  DictionaryError,
  encodings,
  formatDictionary,
  parseDictionary,
  poolHandlesIn,
} from "./dictionary.ts";
import { Feedback, installFeedback } from "./feedback.ts";
import { instrumentModule } from "./instrument.ts";
import { applyPatches } from "./instrumented_tree.ts";

const SAMPLE = `
export function classify(b: Uint8Array): string {
  if (b.length < 4) return "short";
  const v = (b[0] << 8) | b[1];
  switch (b[2]) {
    case 7: return "seven";
    case 9: return v === 0xbabe ? "babe" : "nine";
    default: break;
  }
  let n = 0;
  for (const x of b) if (x > 100) n++;
  return n > 1 && v !== 3 ? "many" : "few";
}
`;

async function load(code: string): Promise<{ classify(b: Uint8Array): string }> {
  return await import(`data:application/typescript;base64,${btoa(code)}`);
}

Deno.test("instrumentation: same results as the original; edges counted; comparisons recorded", async () => {
  const m = instrumentModule("sample.ts", SAMPLE, 0);
  assert.ok(m.edgeLines.length >= 12, `${m.edgeLines.length} sites`);
  assert.ok(m.constants.includes(0xbabe) && m.constants.includes(7) && m.constants.includes(9));
  const fb = installFeedback(m.edgeLines.length);
  const original = await load(SAMPLE);
  const instrumented = await load(m.code.replace(/^\/\/ @ts-nocheck.*$/m, ""));
  const inputs = [[1], [0xba, 0xbe, 9, 0], [0, 1, 9, 0], [0, 1, 7, 0], [200, 200, 1, 1], [
    0,
    3,
    1,
    200,
  ]];
  for (const i of inputs) {
    const b = Uint8Array.from(i);
    assert.equal(instrumented.classify(b), original.classify(b), `input ${i}`);
  }
  // Counting: different paths reach different edges.
  fb.reset();
  instrumented.classify(Uint8Array.from([0, 1, 7, 0]));
  const seven = fb.features();
  fb.reset();
  instrumented.classify(Uint8Array.from([0, 1, 9, 0]));
  const nine = fb.features();
  assert.notDeepEqual(seven, nine);
  // Recording: the 16-bit value compared with 0xbabe, and the switch cases.
  fb.startRecording();
  instrumented.classify(Uint8Array.from([0x12, 0x34, 9, 0]));
  const recorded = fb.stopRecording();
  assert.ok(recorded.some((c) => c.a === 0x1234 && c.b === 0xbabe), JSON.stringify(recorded));
  fb.startRecording();
  instrumented.classify(Uint8Array.from([0, 0, 5, 0]));
  const cases = fb.stopRecording();
  assert.ok(cases.some((c) => c.a === 5 && c.b === 7) && cases.some((c) => c.a === 5 && c.b === 9));
  // Not recording: nothing kept.
  instrumented.classify(Uint8Array.from([0x12, 0x34, 9, 0]));
  assert.equal(fb.recorded.length, 0);
});

Deno.test("feedback: new edges and new count classes are novel, repeats are not", () => {
  const fb = new Feedback(4);
  fb.e[1] = 1;
  assert.equal(fb.novel(), true);
  fb.reset();
  fb.e[1] = 1;
  assert.equal(fb.novel(), false, "same edge, same count");
  fb.reset();
  fb.e[1] = 3;
  assert.equal(fb.novel(), true, "count class 3");
  fb.reset();
  fb.e[1] = 5;
  assert.equal(fb.novel(), true, "count class 4-7");
  fb.reset();
  fb.e[1] = 6;
  assert.equal(fb.novel(), false, "still 4-7");
  fb.reset();
  fb.e[2] = 200;
  assert.equal(fb.novel(), true);
  assert.equal(fb.edgesSeen, 2);
  assert.deepEqual(fb.features(), [2 * 8 + 7]);
});

Deno.test("input-to-state: the wanted value replaces the seen one, every width and byte order", () => {
  const input = Uint8Array.from([1, 2, 0xde, 0xad, 0xbe, 0xef, 0x34, 0x12, 9, 9, 9, 9, 9, 9, 9, 9]);
  const has = (out: Uint8Array[], at: number, bytes: number[]) =>
    out.some((c) => bytes.every((b, i) => c[at + i] === b));
  const out = inputToState(input, [
    { a: 0xdeadbeef, b: 0x5eed1e55 }, // 32-bit big-endian at 2
    { a: 0x1234, b: 0xbabe }, // 16-bit little-endian at 6
    { a: 0x0909090909090909n, b: 0x0123456789abcdefn }, // 64-bit at 8
  ]);
  assert.ok(has(out, 2, [0x5e, 0xed, 0x1e, 0x55]));
  assert.ok(has(out, 2, [0x5e, 0xed, 0x1e, 0x56]), "and the value + 1");
  assert.ok(has(out, 6, [0xbe, 0xba]));
  assert.ok(has(out, 8, [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]));
  const text = new TextEncoder().encode("xxpoolyy");
  const strings = inputToState(text, [{ a: "pool", b: "Xq7#" }]);
  assert.deepEqual(new TextDecoder().decode(strings[0]), "xxXq7#yy");
  assert.equal(inputToState(input, [{ a: 0x77777777, b: 1 }]).length, 0, "nothing to replace");
});

Deno.test("input-to-state: a string of another length rewrites its TLV and the lengths around it", () => {
  // A message header (length 20) holding a Pool Handle TLV "abc" (Length 7, one byte padding)
  // and a 4-byte parameter after it.
  const input = Uint8Array.from([
    0x01,
    0x00,
    0x00,
    20,
    0x00,
    0x0b,
    0x00,
    7,
    0x61,
    0x62,
    0x63,
    0x00,
    0x00,
    0x09,
    0x00,
    8,
    1,
    2,
    3,
    4,
  ]);
  const out = spliceParameterValue(input, 8, 3, new TextEncoder().encode("Xq7#pool"));
  assert.deepEqual([...out], [
    0x01,
    0x00,
    0x00,
    24,
    0x00,
    0x0b,
    0x00,
    12,
    ...new TextEncoder().encode("Xq7#pool"),
    0x00,
    0x09,
    0x00,
    8,
    1,
    2,
    3,
    4,
  ]);
  const strings = inputToState(input, [{ a: "abc", b: "Xq7#pool" }]);
  assert.deepEqual(strings[0], out);
});

Deno.test("dictionary: AFL / libFuzzer format parsed and written back", () => {
  const text = '# comment\n\nkw1="abc"\n"\\x00\\x0b"\nquote="a\\"b\\\\"\nlevel@2="x"\n';
  const d = parseDictionary(text);
  assert.deepEqual(d.map((t) => [...t]), [[97, 98, 99], [0, 11], [97, 34, 98, 92], [120]]);
  assert.deepEqual(parseDictionary(formatDictionary(d)), d);
  assert.throws(() => parseDictionary('kw="\\q"'), DictionaryError);
  assert.throws(() => parseDictionary("kw=abc"), /line 1/);
  assert.throws(() => parseDictionary('kw=""'), DictionaryError);
});

Deno.test("dictionary: protocol constants, compared values and the seeds' pool handles", () => {
  assert.deepEqual(encodings(0x1234).map((b) => [...b]), [
    [0x12, 0x34],
    [0x34, 0x12],
    [
      0,
      0,
      0x12,
      0x34,
    ],
    [0x34, 0x12, 0, 0],
    [0, 0, 0, 0, 0, 0, 0x12, 0x34],
    [0x34, 0x12, 0, 0, 0, 0, 0, 0],
  ]);
  const handle = new TextEncoder().encode("EchoPool");
  const seed = Uint8Array.from([0x01, 0, 0, 16, 0x00, 0x0b, 0x00, 12, ...handle]);
  assert.deepEqual(poolHandlesIn([seed]), [handle]);
  const d = automaticDictionary([0x5eed1e55, "secret"], [seed]).map((t) => [...t].join(","));
  assert.ok(d.includes([0x5e, 0xed, 0x1e, 0x55].join(",")), "a compared 32-bit value");
  assert.ok(d.includes([...new TextEncoder().encode("secret")].join(",")), "a compared string");
  assert.ok(d.includes([...handle].join(",")), "a pool handle of the seeds");
  assert.ok(d.includes([0x00, 0x0b].join(",")) || d.includes("11"), "Pool Handle's type");
});

Deno.test("planted copies: a patch goes after its anchor, which must be unique", () => {
  const text = "a\nb\nc\n";
  assert.equal(
    applyPatches("f.ts", text, [{ file: "f.ts", after: "b", insert: "X" }]),
    "a\nb\nX\nc\n",
  );
  assert.equal(applyPatches("g.ts", text, [{ file: "f.ts", after: "b", insert: "X" }]), text);
  assert.throws(() => applyPatches("f.ts", "b\nb\n", [{ file: "f.ts", after: "b", insert: "X" }]));
});
