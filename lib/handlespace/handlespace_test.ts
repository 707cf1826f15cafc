import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { SeededRandom } from "../policy/random.ts";
import { handlespaceChecksum } from "../protocol/checksum.ts";
import {
  decodeMessage,
  encodePolicyParameter,
  encodeTransportParameter,
} from "../protocol/codec.ts";
import { ErrorCauseCode } from "../protocol/constants.ts";
import type {
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  TransportParameter,
} from "../protocol/types.ts";
import { Handlespace, type HandleTablePage, type PageCursor } from "./handlespace.ts";

const text = (s: string) => new TextEncoder().encode(s);
const ECHO = text("EchoPool");
const PING = text("PingPong");
const sctp = (port = 2000, transportUse = 0): TransportParameter => ({
  type: "SCTP",
  port,
  transportUse,
  addresses: ["10.0.0.1"],
});

function element(
  identifier: number,
  policy: PoolMemberSelectionPolicy = { type: "RoundRobin" },
  life = 30_000,
  userTransport: TransportParameter = sctp(),
): PoolElementParameter {
  return { identifier, homeRegistrarId: 0, registrationLife: life, userTransport, policy };
}

function refused(f: () => unknown, code: string, cause: number): ProtocolError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.errorCause, cause);
    return e;
  }
  assert.fail(`expected ${code}`);
}

function snapshot(h: Handlespace): string {
  const rows: string[] = [];
  for (const pool of h.allPools()) {
    for (const node of pool.elements.values()) {
      rows.push(
        `${pool.key}/${node.identifier}/${node.homeRegistrarId}/${node.policy.type}/${node.expiresAt}/${
          String(node.connection)
        }`,
      );
    }
  }
  return rows.sort().join("\n") + `|${h.checksum()}|${h.nextExpiry()}`;
}

Deno.test("register adds, re-register updates in place, deregister removes (and empties the pool)", () => {
  const h = new Handlespace();
  const first = h.register(ECHO, element(1), { now: 100, homeRegistrarId: 9 });
  assert.equal(first.added, true);
  assert.equal(first.node.homeRegistrarId, 9);
  assert.equal(first.node.expiresAt, 30_100);
  const again = h.register(ECHO, { ...element(1), registrationLife: 5000 }, {
    now: 200,
    homeRegistrarId: 9,
  });
  assert.equal(again.added, false);
  assert.equal(again.node, first.node);
  assert.equal(first.node.expiresAt, 5200);
  assert.equal(first.node.registeredAt, 100);
  assert.equal(h.size, 1);
  assert.equal(h.find(ECHO, 1), first.node);
  assert.deepEqual(first.node.toPoolElement(), {
    ...element(1),
    homeRegistrarId: 9,
    registrationLife: 5000,
  });
  assert.equal(h.deregister(ECHO, 1), first.node);
  assert.equal(h.deregister(ECHO, 1), undefined);
  assert.equal(h.poolCount, 0);
  assert.deepEqual(h.resolve(ECHO, 3), []);
});

Deno.test("a pool keeps the policy and transport of its first element (RFC 5352 §3.1)", () => {
  const h = new Handlespace();
  h.register(ECHO, element(1, { type: "RoundRobin" }, 30_000, sctp(2000, 1)), {
    now: 0,
    homeRegistrarId: 1,
  });
  const before = snapshot(h);
  const policy = refused(
    () =>
      h.register(ECHO, element(2, { type: "Random" }, 30_000, sctp(2000, 1)), {
        now: 0,
        homeRegistrarId: 1,
      }),
    "policy-mismatch",
    ErrorCauseCode.InconsistentPoolingPolicy,
  );
  // The cause carries the offending Policy parameter (RFC 5354 §3.12).
  assert.deepEqual(policy.errorInfo, encodePolicyParameter({ type: "Random" }));
  const tcp: TransportParameter = {
    type: "TCP",
    port: 80,
    transportUse: 1,
    addresses: ["10.0.0.2"],
  };
  const transport = refused(
    () =>
      h.register(ECHO, element(2, { type: "RoundRobin" }, 30_000, tcp), {
        now: 0,
        homeRegistrarId: 1,
      }),
    "transport-mismatch",
    ErrorCauseCode.InconsistentTransportType,
  );
  assert.deepEqual(transport.errorInfo, encodeTransportParameter(tcp));
  refused(
    () =>
      h.register(ECHO, element(2, { type: "RoundRobin" }, 30_000, sctp(2000, 0)), {
        now: 0,
        homeRegistrarId: 1,
      }),
    "control-channel-mismatch",
    ErrorCauseCode.InconsistentDataControlConfiguration,
  );
  // An existing element may not switch policy either.
  refused(
    () =>
      h.register(ECHO, element(1, { type: "LeastUsed", load: 0 }, 30_000, sctp(2000, 1)), {
        now: 0,
        homeRegistrarId: 1,
      }),
    "policy-mismatch",
    ErrorCauseCode.InconsistentPoolingPolicy,
  );
  assert.equal(snapshot(h), before, "nothing changed");
  // Once the pool is empty it is forgotten, and another policy may start it afresh.
  h.deregister(ECHO, 1);
  assert.equal(
    h.register(ECHO, element(2, { type: "Random" }), { now: 0, homeRegistrarId: 1 }).added,
    true,
  );
});

Deno.test("values no pool accepts are Invalid Values", () => {
  const h = new Handlespace();
  const ctx = { now: 0, homeRegistrarId: 1 };
  refused(() => h.register(ECHO, element(0), ctx), "zero-identifier", ErrorCauseCode.InvalidValues);
  refused(
    () =>
      h.register(
        ECHO,
        element(1, { type: "Unknown", policyType: 0x12345678, data: new Uint8Array() }),
        ctx,
      ),
    "unsupported-policy",
    ErrorCauseCode.InvalidValues,
  );
  refused(
    () => h.register(ECHO, element(1, undefined, 1, sctp(0)), ctx),
    "bad-transport",
    ErrorCauseCode.InvalidValues,
  );
  const long = refused(
    () => h.register(new Uint8Array(33), element(1), ctx),
    "bad-pool-handle",
    ErrorCauseCode.InvalidValues,
  );
  assert.equal(long.errorInfo.length, 4 + 33 + 3);
  assert.equal(h.size, 0);
});

Deno.test("limits answer Lack of Resources and change nothing", () => {
  const h = new Handlespace({
    limits: { maxPools: 2, maxElements: 5, maxElementsPerPool: 3, maxElementsPerConnection: 2 },
  });
  const ctx = (connection?: string) => ({ now: 0, homeRegistrarId: 1, connection });
  h.register(ECHO, element(1), ctx("a"));
  h.register(ECHO, element(2), ctx("a"));
  refused(
    () => h.register(ECHO, element(3), ctx("a")),
    "too-many-for-connection",
    ErrorCauseCode.LackOfResources,
  );
  // Moving an element to a full connection is refused too; updating on the same connection is fine.
  h.register(PING, element(7), ctx("b"));
  refused(
    () => h.register(PING, element(7), ctx("a")),
    "too-many-for-connection",
    ErrorCauseCode.LackOfResources,
  );
  h.register(ECHO, element(1), ctx("a"));
  h.register(ECHO, element(3), ctx("c"));
  refused(
    () => h.register(ECHO, element(4), ctx("c")),
    "pool-full",
    ErrorCauseCode.LackOfResources,
  );
  refused(
    () => h.register(text("Third"), element(1), ctx("c")),
    "too-many-pools",
    ErrorCauseCode.LackOfResources,
  );
  h.register(PING, element(8), ctx("c"));
  refused(
    () => h.register(PING, element(9), ctx("d")),
    "too-many-elements",
    ErrorCauseCode.LackOfResources,
  );
  assert.equal(h.size, 5);
  assert.deepEqual([...h.registeredOver("a")].map((n) => n.identifier).sort(), [1, 2]);
});

Deno.test("re-registration over another connection moves the element, or is refused when asked", () => {
  const moving = new Handlespace();
  moving.register(ECHO, element(1), { now: 0, homeRegistrarId: 1, connection: "old" });
  moving.register(ECHO, element(1), { now: 1, homeRegistrarId: 1, connection: "new" });
  assert.equal([...moving.registeredOver("old")].length, 0);
  assert.equal([...moving.registeredOver("new")].length, 1);
  const strict = new Handlespace({ uniqueConnection: true });
  strict.register(ECHO, element(1), { now: 0, homeRegistrarId: 1, connection: "old" });
  refused(
    () => strict.register(ECHO, element(1), { now: 1, homeRegistrarId: 1, connection: "new" }),
    "non-unique-identifier",
    ErrorCauseCode.NonUniquePoolElementIdentifier,
  );
});

Deno.test("expiry removes elements in order of their registration life's end", () => {
  const h = new Handlespace();
  h.register(ECHO, element(1, undefined, 500), { now: 0, homeRegistrarId: 1 });
  h.register(ECHO, element(2, undefined, 100), { now: 0, homeRegistrarId: 1 });
  h.register(PING, element(3, undefined, 300), { now: 0, homeRegistrarId: 1 });
  assert.equal(h.nextExpiry(), 100);
  assert.deepEqual(h.expire(99), []);
  assert.deepEqual(h.expire(300).map((n) => n.identifier), [2, 3]);
  // A re-registration restarts the life.
  h.register(ECHO, element(1, undefined, 500), { now: 400, homeRegistrarId: 1 });
  assert.deepEqual(h.expire(600), []);
  assert.equal(h.nextExpiry(), 900);
  assert.deepEqual(h.expire(900).map((n) => n.identifier), [1]);
  assert.equal(h.nextExpiry(), undefined);
  assert.equal(h.poolCount, 0);
});

Deno.test("ownership: checksums per owner and in total, takeover, resynchronisation", () => {
  const h = new Handlespace();
  h.register(ECHO, element(0x12345678), { now: 0, homeRegistrarId: 0xa });
  h.register(PING, element(0x0badcafe), { now: 0, homeRegistrarId: 0xb });
  h.register(text("Odd"), element(1), { now: 0, homeRegistrarId: 0xb });
  // enrp.md §5 test vectors.
  assert.equal(h.checksum(0xa), 0x29a5);
  assert.equal(h.checksum(0xb), handlespaceChecksum([[PING, 0x0badcafe], [text("Odd"), 1]]));
  assert.equal(h.checksum(), 0x21ec);
  assert.equal(h.checksum(0xc), 0xffff);
  assert.equal(h.checksum(0xc, "internet32"), 0xffffffff);
  assert.equal(h.checksum(0xa, "internet32"), 0x57f8d1ac);
  assert.equal(h.checksum(0xa, "rsplib16"), 0x29a5);
  assert.deepEqual(h.changeOwner(0xb, 0xa).map((n) => n.identifier).sort(), [1, 0x0badcafe]);
  assert.equal(h.checksum(0xa), 0x21ec);
  assert.equal(h.ownedCount(0xb), 0);
  assert.deepEqual([...h.owners()], [0xa]);
  // A peer re-sends what it owns: marked elements not re-sent are swept.
  h.mark(0xa);
  h.register(ECHO, element(0x12345678), { now: 1, homeRegistrarId: 0xa });
  assert.deepEqual(h.sweep(0xa).map((n) => n.identifier).sort(), [1, 0x0badcafe]);
  assert.equal(h.checksum(), 0x29a5);
  // A registration from another registrar takes the element over.
  h.register(ECHO, element(0x12345678), { now: 2, homeRegistrarId: 0xc });
  assert.equal(h.checksum(0xa), 0xffff);
  assert.equal(h.checksum(0xc), 0x29a5);
});

function collectPages(h: Handlespace, max: number, owner?: number): HandleTablePage[] {
  const pages: HandleTablePage[] = [];
  let cursor: PageCursor | undefined;
  do {
    const page = h.page(cursor, max, owner);
    pages.push(page);
    cursor = page.next;
  } while (cursor !== undefined);
  return pages;
}

Deno.test("handle table pages: (handle, identifier) order, every element once, changes in between", () => {
  const h = new Handlespace({ random: new SeededRandom(3) });
  for (
    const [handle, ids] of [[PING, [5, 1, 9]], [ECHO, [30, 20, 10, 40]], [text("A"), [2]]] as const
  ) {
    for (const id of ids) h.register(handle, element(id), { now: 0, homeRegistrarId: id % 2 });
  }
  const flat = (pages: HandleTablePage[]) =>
    pages.flatMap((p) =>
      p.pools.flatMap((g) => g.elements.map((n) => `${g.pool.key}/${n.identifier}`))
    );
  const pages = collectPages(h, 3);
  assert.deepEqual(pages.map((p) => p.pools.reduce((n, g) => n + g.elements.length, 0)), [3, 3, 2]);
  assert.deepEqual(flat(pages), [
    "A/2",
    "EchoPool/10",
    "EchoPool/20",
    "EchoPool/30",
    "EchoPool/40",
    "PingPong/1",
    "PingPong/5",
    "PingPong/9",
  ]);
  // Exactly full last page: no further page is announced.
  assert.equal(collectPages(h, 4).length, 2);
  // Only one owner's elements (the W flag).
  assert.deepEqual(flat(collectPages(h, 2, 1)), ["PingPong/1", "PingPong/5", "PingPong/9"]);
  // Changes between pages: removed ones vanish, later additions appear, nothing repeats.
  const first = h.page(undefined, 3);
  h.deregister(ECHO, 30);
  h.register(ECHO, element(15), { now: 0, homeRegistrarId: 1 });
  h.register(text("0"), element(1), { now: 0, homeRegistrarId: 1 }); // before the cursor: not seen
  const rest: HandleTablePage[] = [];
  for (let cursor = first.next; cursor !== undefined;) {
    const page = h.page(cursor, 2);
    rest.push(page);
    cursor = page.next;
  }
  assert.deepEqual(flat([first, ...rest]), [
    "A/2",
    "EchoPool/10",
    "EchoPool/20",
    "EchoPool/40",
    "PingPong/1",
    "PingPong/5",
    "PingPong/9",
  ]);
  assert.throws(() => h.page(undefined, 0), RangeError);
});

Deno.test("nextgen: 64-bit identifiers work as keys and in the checksums", () => {
  const h = new Handlespace();
  const big = (1n << 63n) + 5n;
  h.register(ECHO, { ...element(1), identifier: big, homeRegistrarId: 0n }, {
    now: 0,
    homeRegistrarId: 1n << 40n,
  });
  assert.equal(h.find(ECHO, big)?.identifier, big);
  assert.equal(h.checksum(1n << 40n, "internet32"), handlespaceChecksum([[ECHO, big]], 32));
  assert.equal(h.checksum(1n << 40n), handlespaceChecksum([[ECHO, big]], 16));
  refused(
    () => h.register(ECHO, { ...element(1), identifier: 0n }, { now: 0, homeRegistrarId: 1n }),
    "zero-identifier",
    3,
  );
});

Deno.test("the Operation Error of a ProtocolError is well formed", () => {
  const h = new Handlespace();
  h.register(ECHO, element(1), { now: 0, homeRegistrarId: 1 });
  const e = refused(
    () =>
      h.register(ECHO, element(2, { type: "LeastUsed", load: 3 }), { now: 0, homeRegistrarId: 1 }),
    "policy-mismatch",
    5,
  );
  // The information is a complete, decodable Policy parameter.
  const message = decodeMessage(
    11,
    new Uint8Array([
      0x0e,
      0,
      0,
      4 + 4 + 4 + e.errorInfo.length,
      0,
      0x0c,
      0,
      4 + 4 + e.errorInfo.length,
      0,
      5,
      0,
      4 + e.errorInfo.length,
      ...e.errorInfo,
    ]),
  );
  assert.deepEqual(message, {
    type: "AsapError",
    operationError: [{ code: 5, info: e.errorInfo }],
  });
  assert.deepEqual([...e.errorInfo.slice(0, 4)], [0, 8, 0, 12]);
});

Deno.test("pools whose handles differ in one byte only, anywhere, stay apart (looked up in turn)", () => {
  const h = new Handlespace({ random: new SeededRandom(7) });
  const ctx = { now: 0, homeRegistrarId: 1 };
  // Handles of one length differing in the first, a middle or the last byte, and a prefix.
  const handles = ["APool", "BPool", "AP0ol", "APoo1", "APoo"].map(text);
  handles.forEach((handle, i) => h.register(handle, element(100 + i), ctx));
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < handles.length; i++) {
      // Alternate with another pool, so that each lookup follows one of a different pool.
      const other = (i + round + 1) % handles.length;
      assert.equal(h.pool(handles[other])?.elements.get(100 + other)?.identifier, 100 + other);
      assert.deepEqual(h.resolve(handles[i], 1).map((n) => n.identifier), [100 + i]);
      assert.equal(h.find(handles[i], 100 + i)?.pool, h.pool(handles[i]));
    }
  }
  // A pool gone is gone, even when it was the last one looked up; its handle makes a new pool.
  assert.equal(h.pool(handles[0])?.size, 1);
  h.deregister(handles[0], 100);
  assert.equal(h.pool(handles[0]), undefined);
  assert.deepEqual(h.resolve(handles[1], 1).map((n) => n.identifier), [101]);
  h.register(handles[0], element(200), ctx);
  assert.deepEqual(h.resolve(handles[0], 1).map((n) => n.identifier), [200]);
});
