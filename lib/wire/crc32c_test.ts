import assert from "node:assert/strict";
import { crc32c } from "./crc32c.ts";

Deno.test("CRC32c check values (RFC 3720 B.4 and the common check string)", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

Deno.test("crc32c: eight bytes at a time gives what one byte at a time gives, at any offset", () => {
  // The bitwise definition (RFC 9260 Appendix B), as the reference.
  const bitwise = (b: Uint8Array, from: number, to: number) => {
    let crc = 0xffffffff;
    for (let i = from; i < to; i++) {
      crc ^= b[i];
      for (let k = 0; k < 8; k++) crc = crc & 1 ? 0x82f63b78 ^ (crc >>> 1) : crc >>> 1;
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
  const data = new Uint8Array(300).map((_, i) => (i * 131 + 7) & 0xff);
  for (let from = 0; from < 12; from++) {
    for (const to of [from, from + 1, from + 7, from + 8, from + 9, 150, 299, 300]) {
      assert.equal(crc32c(data, from, to), bitwise(data, from, to), `${from}..${to}`);
      const mid = Math.floor((from + to) / 2);
      assert.equal(
        crc32c(data, mid, to, crc32c(data, from, mid)),
        bitwise(data, from, to),
        "continued",
      );
    }
  }
});
