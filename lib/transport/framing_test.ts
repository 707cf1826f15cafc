import assert from "node:assert/strict";
import fc from "fast-check";
import { TransportError } from "../errors.ts";
import { encodeMessage } from "../protocol/codec.ts";
import { asapMessage } from "../testing/arbitraries.ts";
import { MessageDeframer, SessionDeframer, sessionFrameHeader } from "./framing.ts";

/** Cuts `bytes` at the given (sorted, deduplicated) positions. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("message framing: any split of a message stream yields the messages", () => {
  fc.assert(
    fc.property(
      fc.array(asapMessage(), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (messages, cuts) => {
        const encoded = messages.map((m) => encodeMessage(m));
        const deframer = new MessageDeframer(11);
        const frames = split(concat(encoded), cuts).flatMap((chunk) => deframer.push(chunk));
        assert.equal(frames.length, encoded.length);
        frames.forEach((f, i) => {
          assert.equal(f.ppid, 11);
          assert.deepEqual(f.payload, encoded[i]);
        });
        assert.equal(deframer.buffered, 0);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("message framing: an incomplete message stays buffered", () => {
  const bytes = encodeMessage({ type: "ServerAnnounce", registrarId: 7, transports: [] });
  const deframer = new MessageDeframer(11);
  assert.deepEqual(deframer.push(bytes.subarray(0, bytes.length - 1)), []);
  assert.equal(deframer.buffered, bytes.length - 1);
  const [frame] = deframer.push(bytes.subarray(bytes.length - 1));
  assert.deepEqual(frame.payload, bytes);
});

function failureOf(deframer: MessageDeframer | SessionDeframer, bytes: Uint8Array) {
  const frames = deframer.push(bytes);
  return { frames, failure: deframer.failure };
}

Deno.test("message framing: Length below 4 or above the limit is a bad frame", () => {
  for (const length of [0, 1, 3]) {
    const { frames, failure } = failureOf(
      new MessageDeframer(11),
      new Uint8Array([1, 0, 0, length]),
    );
    assert.deepEqual(frames, []);
    assert.ok(failure instanceof TransportError && failure.code === "bad-frame");
  }
  // Rejected from the header alone: nothing of the announced size is waited for.
  const big = failureOf(new MessageDeframer(11, 1000), new Uint8Array([1, 0, 0x03, 0xe9]));
  assert.match(big.failure!.message, /1001 above the limit of 1000/);
  const edge = failureOf(new MessageDeframer(11, 1000), new Uint8Array([1, 0, 0x03, 0xe8]));
  assert.equal(edge.failure, undefined);
  assert.equal(edge.frames.length, 0);
});

Deno.test("message framing: frames before a bad header are delivered, however the stream is cut", () => {
  // Found by the fuzzer: the frames before an impossible header were lost when both
  // arrived in one chunk, and delivered when they arrived in two.
  const good = encodeMessage({ type: "ServerAnnounce", registrarId: 7, transports: [] });
  const stream = concat([good, good, new Uint8Array([1, 0, 0, 2]), good]);
  for (const cut of [0, 3, good.length, good.length + 1, 2 * good.length + 2, stream.length]) {
    const deframer = new MessageDeframer(11);
    const frames = [stream.subarray(0, cut), stream.subarray(cut)].flatMap((c) => deframer.push(c));
    assert.equal(frames.length, 2, `cut at ${cut}`);
    assert.equal(deframer.failure?.code, "bad-frame", `cut at ${cut}`);
    assert.deepEqual(deframer.push(good), [], "nothing after a failure");
  }
});

Deno.test("session framing: any split yields the frames with their PPIDs", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ ppid: fc.nat({ max: 0xffffffff }), payload: fc.uint8Array({ maxLength: 64 }) }),
        { minLength: 1, maxLength: 8 },
      ),
      fc.array(fc.nat(), { maxLength: 20 }),
      (frames, cuts) => {
        const stream = concat(
          frames.flatMap((f) => [sessionFrameHeader(f.ppid, f.payload.length), f.payload]),
        );
        const deframer = new SessionDeframer();
        const out = split(stream, cuts).flatMap((chunk) => deframer.push(chunk));
        assert.deepEqual(
          out.map((f) => ({ ppid: f.ppid, payload: [...f.payload] })),
          frames.map((f) => ({ ppid: f.ppid, payload: [...f.payload] })),
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("session framing: a payload length above the limit is a bad frame", () => {
  const deframer = new SessionDeframer(16);
  assert.equal(deframer.push(sessionFrameHeader(0, 16)).length, 0);
  assert.equal(deframer.failure, undefined);
  assert.equal(
    failureOf(new SessionDeframer(16), sessionFrameHeader(0, 17)).failure?.code,
    "bad-frame",
  );
  // The largest length the header can carry is refused before any allocation.
  const huge = failureOf(new SessionDeframer(), sessionFrameHeader(0, 0xffffffff));
  assert.equal(huge.failure?.code, "bad-frame");
});

Deno.test("session framing: header fields are big-endian PPID and length", () => {
  assert.deepEqual([...sessionFrameHeader(0x01020304, 0x0a0b0c0d)], [1, 2, 3, 4, 10, 11, 12, 13]);
  assert.deepEqual([...sessionFrameHeader(0xffffffff, 0)], [255, 255, 255, 255, 0, 0, 0, 0]);
});
