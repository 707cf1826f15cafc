import assert from "node:assert/strict";
import { RSerPoolError } from "../errors.ts";
import type { AuthorizationRequest } from "../registrar/options.ts";
import { authorizeRegistrations } from "./authorize.ts";

function request(
  pool: string,
  from: string | undefined,
  identity?: string,
  registers = from ?? "10.1.2.3",
): AuthorizationRequest {
  return {
    poolHandle: new TextEncoder().encode(pool),
    poolElement: {
      identifier: 1,
      homeRegistrarId: 0,
      registrationLife: 30000,
      userTransport: { type: "TCP", port: 7, transportUse: 0, addresses: [registers] },
      policy: { type: "RoundRobin" },
    },
    connection: "in:1",
    remote: from === undefined ? undefined : { address: from, port: 40000 },
    identity,
  };
}

Deno.test("authorize: identities must carry every listed attribute", () => {
  const allow = authorizeRegistrations({
    rules: [{ pools: ["echo"], identities: ["CN=pe-alpha,O=rserpool tests"] }],
  });
  assert.equal(allow(request("echo", "127.0.0.1", "CN=pe-alpha,O=rserpool tests")), true);
  assert.equal(allow(request("echo", "127.0.0.1", "CN=pe-alpha,O=someone else")), false);
  assert.equal(allow(request("echo", "127.0.0.1", "CN=pe-alpha")), false);
  assert.equal(allow(request("echo", "127.0.0.1")), false, "no certificate, no entry");
  assert.equal(allow(request("daytime", "127.0.0.1", "CN=pe-alpha,O=rserpool tests")), false);
});

Deno.test("authorize: address prefixes of both families, on bit boundaries", () => {
  const allow = authorizeRegistrations({
    rules: [
      { pools: "*", addresses: ["10.0.0.0/9"] },
      { pools: ["v6"], addresses: ["2001:db8::/32", "::1"] },
    ],
  });
  assert.equal(allow(request("any", "10.127.255.255")), true);
  assert.equal(allow(request("any", "10.128.0.0")), false, "outside /9");
  assert.equal(allow(request("any", "::ffff:10.1.1.1")), true, "IPv4-mapped source");
  assert.equal(allow(request("v6", "2001:db8:ffff::1")), true);
  assert.equal(allow(request("v6", "2001:db9::1")), false);
  assert.equal(allow(request("v6", "::1")), true);
  assert.equal(allow(request("v6", "::2")), false);
  assert.equal(allow(request("v6", undefined)), false);
});

Deno.test("authorize: own-address rule refuses elements naming other hosts", () => {
  const allow = authorizeRegistrations({ rules: [{ pools: "*" }], ownAddressOnly: true });
  assert.equal(allow(request("echo", "127.0.0.1", undefined, "127.0.0.1")), true);
  assert.equal(allow(request("echo", "127.0.0.1", undefined, "192.0.2.1")), false);
  assert.equal(authorizeRegistrations({ rules: [] })(request("echo", "127.0.0.1")), false);
});

Deno.test("authorize: malformed prefixes are refused when the rules are built", () => {
  for (const bad of ["10.0.0.0/33", "300.1.1.1", "10.0.0.0/", "::/129", "host.example"]) {
    assert.throws(
      () => authorizeRegistrations({ rules: [{ pools: "*", addresses: [bad] }] }),
      (e) => e instanceof RSerPoolError && e.code === "bad-option",
      bad,
    );
  }
});
