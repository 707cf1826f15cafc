import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv4, formatIPv6, ipv4Number, parseAddress } from "./address.ts";

function v6(text: string): string {
  const parsed = parseAddress(text);
  assert.ok(parsed && parsed.family === 6, text);
  return formatIPv6(parsed.bytes, 0);
}

Deno.test("IPv6 text follows RFC 5952", () => {
  assert.equal(v6("2001:0db8:0000:0000:0000:0000:0002:0001"), "2001:db8::2:1");
  assert.equal(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1"); // first of two equal runs
  assert.equal(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1"); // a single zero is not shortened
  assert.equal(v6("2001:DB8::A"), "2001:db8::a");
  assert.equal(v6("::"), "::");
  assert.equal(v6("::1"), "::1");
  assert.equal(v6("1::"), "1::");
  assert.equal(v6("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
  assert.equal(v6("::ffff:c000:0201"), "::ffff:192.0.2.1");
  assert.equal(v6("64:ff9b::192.0.2.33"), "64:ff9b::c000:221");
});

Deno.test("text that is no address is refused", () => {
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.-4",
      "1.2.3.",
      ".1.2.3",
      "1..2.3",
      "1.2.3.00",
      "1.2.3.4 ",
      "1.2.3.1000",
      "a.b.c.d",
      "1::2::3",
      "12345::",
      "g::",
      ":::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8",
      "::1.2.3",
      "1::2:",
    ]
  ) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
});

Deno.test("formatting then parsing returns the same bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
    const parsed = parseAddress(formatIPv4(b, 0));
    assert.deepEqual(parsed, { family: 4, bytes: b });
  }));
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(16), (b, zeros) => {
    b.fill(0, 0, zeros);
    const parsed = parseAddress(formatIPv6(b, 0));
    assert.deepEqual(parsed, { family: 6, bytes: b });
  }));
});

Deno.test("fast-check's own IPv4 and IPv6 text parses", () => {
  fc.assert(fc.property(fc.ipV4(), (a) => assert.equal(parseAddress(a)?.family, 4)));
  fc.assert(fc.property(fc.ipV6(), (a) => assert.equal(parseAddress(a)?.family, 6)));
});

Deno.test("formatIPv4 is right for addresses that share a slot of its cache", () => {
  // Every address is formatted twice (a miss, then maybe a hit), interleaved
  // with others: a cache that compared slots instead of addresses would mix them up.
  const addresses: number[] = [];
  for (let i = 0; i < 5000; i++) addresses.push((i * 2654435761) >>> 0);
  for (let round = 0; round < 2; round++) {
    for (const a of addresses) {
      const b = new Uint8Array([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
      assert.equal(formatIPv4(b, 0), `${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
    }
  }
  assert.equal(formatIPv4(new Uint8Array(4), 0), "0.0.0.0");
});

Deno.test("ipv4Number reads dotted quads as numbers, and nothing else", () => {
  assert.equal(ipv4Number("10.77.0.1"), 0x0a4d0001);
  assert.equal(ipv4Number("255.255.255.255"), 0xffffffff);
  assert.equal(ipv4Number("0.0.0.0"), 0);
  for (const bad of ["::1", "1.2.3", "01.2.3.4", "256.1.1.1", "", "::ffff:1.2.3.4"]) {
    assert.equal(ipv4Number(bad), -1, bad);
    assert.equal(ipv4Number(bad), -1, `${bad} (cached)`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      const text = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
      assert.equal(ipv4Number(text), ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
    }),
    { numRuns: 6000 },
  ); // more than the cache holds: it is cleared and refilled
});
