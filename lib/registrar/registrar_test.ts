import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { SeededRandom } from "../policy/random.ts";
import { encodedLength, encodeMessage } from "../protocol/codec.ts";
import { ErrorCauseCode, HANDLE_RESOLUTION_ITEMS_MAX } from "../protocol/constants.ts";
import type {
  PoolElementParameter,
  RSerPoolMessage,
  TransportParameter,
} from "../protocol/types.ts";
import { Driver } from "../testing/driver.ts";
import type { RegistrarEvent, RegistrarOptions } from "./options.ts";
import { Registrar } from "./registrar.ts";

const text = (s: string) => new TextEncoder().encode(s);
const POOL = text("EchoPool");
const sctp = (address: string, port: number): TransportParameter => ({
  type: "SCTP",
  port,
  transportUse: 0,
  addresses: [address],
});
const element = (
  identifier: number,
  policy: PoolElementParameter["policy"] = { type: "RoundRobin" },
): PoolElementParameter => ({
  identifier,
  homeRegistrarId: 0,
  registrationLife: 30_000,
  userTransport: sctp("10.0.0.9", 7000 + (identifier % 1000)),
  policy,
});

const TIMERS = {
  keepAliveInterval: 1000,
  keepAliveTimeout: 500,
  peerHeartbeatCycle: 1000,
  maxTimeLastHeard: 3000,
  maxTimeNoResponse: 1000,
};

function setup(options: Partial<RegistrarOptions> = {}) {
  const r = new Registrar({
    id: 0x100,
    enrpTransport: sctp("10.0.0.1", 9901),
    asapTransports: [sctp("10.0.0.1", 3863)],
    random: new SeededRandom(1),
    timers: TIMERS,
    ...options,
  });
  const d = new Driver<RegistrarEvent>(r);
  d.do(() => r.start(0));
  return { r, d };
}

/** Accepts an ASAP connection from an element's host. */
function asap(r: Registrar, d: Driver<RegistrarEvent>, id: string, port = 40000): void {
  d.do(() => r.accepted(id, "asap", { address: "10.0.0.9", port, transport: "SCTP" }, d.now));
}

/** Accepts an ENRP connection from a peer registrar and lets it introduce itself. */
function peer(
  r: Registrar,
  d: Driver<RegistrarEvent>,
  id: string,
  peerId: number,
): RSerPoolMessage[] {
  d.do(() =>
    r.accepted(id, "enrp", { address: "10.0.0.2", port: 50000, transport: "SCTP" }, d.now)
  );
  return Driver.sent(
    d.do(() =>
      r.receive(id, {
        type: "Presence",
        replyRequired: true,
        sendingRegistrarId: peerId,
        receivingRegistrarId: 0,
        checksum: 0xffff,
        serverInformation: { registrarId: peerId, transport: sctp("10.0.0.2", 9901) },
      }, d.now)
    ),
    id,
  );
}

/** A peer's ENRP Handle Update (ADD_PE) for element `id`, owned by `home` (default: the sender). */
function peerAdds(
  r: Registrar,
  d: Driver<RegistrarEvent>,
  connection: string,
  add: {
    from: number;
    id: number;
    asapTransport: TransportParameter;
    home?: number;
    poolHandle?: Uint8Array;
    takeoverSuggested?: boolean;
  },
) {
  return d.do(() =>
    r.receive(connection, {
      type: "HandleUpdate",
      takeoverSuggested: add.takeoverSuggested ?? false,
      sendingRegistrarId: add.from,
      receivingRegistrarId: 0x100,
      updateAction: 0,
      poolHandle: add.poolHandle ?? POOL,
      poolElement: {
        ...element(add.id),
        homeRegistrarId: add.home ?? add.from,
        asapTransport: add.asapTransport,
      },
    }, d.now)
  );
}

function register(
  r: Registrar,
  d: Driver<RegistrarEvent>,
  c: string,
  pe: PoolElementParameter,
  handle = POOL,
) {
  return d.do(() =>
    r.receive(c, { type: "Registration", poolHandle: handle, poolElement: pe }, d.now)
  );
}

Deno.test("registration: response, Handle Update to peers, home and ASAP transport filled in", () => {
  const { r, d } = setup();
  peer(r, d, "in:peer", 0x200);
  asap(r, d, "in:1");
  const out = register(r, d, "in:1", element(7));
  assert.deepEqual(Driver.sent(out, "in:1"), [{
    type: "RegistrationResponse",
    reject: false,
    poolHandle: POOL,
    poolElementId: 7,
  }]);
  const [update] = Driver.sent(out, "in:peer");
  assert.deepEqual(update, {
    type: "HandleUpdate",
    takeoverSuggested: false,
    sendingRegistrarId: 0x100,
    receivingRegistrarId: 0x200,
    updateAction: 0,
    poolHandle: POOL,
    poolElement: { ...element(7), homeRegistrarId: 0x100, asapTransport: sctp("10.0.0.9", 40000) },
  });
  assert.deepEqual(Driver.events(out).map((e) => e.kind), ["registered"]);
});

Deno.test("refused registrations carry the Operation Error cause", () => {
  const { r, d } = setup();
  asap(r, d, "in:1");
  register(r, d, "in:1", element(1));
  const [response] = Driver.sent(register(r, d, "in:1", element(2, { type: "Random" })), "in:1");
  assert.equal(response.type === "RegistrationResponse" && response.reject, true);
  assert.equal(
    response.type === "RegistrationResponse" && response.operationError?.[0].code,
    ErrorCauseCode.InconsistentPoolingPolicy,
  );
  // Authorization (RFC 5355): refused by the hook with cause 0x000a, or with the hook's own error.
  const denied = setup({ authorize: (req) => req.poolHandle.length < 5 });
  asap(denied.r, denied.d, "in:1");
  const [refused] = Driver.sent(register(denied.r, denied.d, "in:1", element(3)), "in:1");
  assert.deepEqual(refused.type === "RegistrationResponse" && refused.operationError, [{
    code: ErrorCauseCode.RejectedDueToSecurity,
    info: new Uint8Array(),
  }]);
  const custom = setup({
    authorize: () => new ProtocolError("quota", ErrorCauseCode.LackOfResources, "quota"),
  });
  asap(custom.r, custom.d, "in:1");
  const [quota] = Driver.sent(register(custom.r, custom.d, "in:1", element(3)), "in:1");
  assert.equal(
    quota.type === "RegistrationResponse" && quota.operationError?.[0].code,
    ErrorCauseCode.LackOfResources,
  );
  assert.equal(custom.r.handlespace.size, 0);
});

Deno.test("deregistration, and of an unknown pool", () => {
  const { r, d } = setup();
  peer(r, d, "in:peer", 0x200);
  asap(r, d, "in:1");
  register(r, d, "in:1", element(7));
  // Not by proxy (RFC 5352 §2.2.2): over another connection it is refused and the element stays.
  asap(r, d, "in:2", 41000);
  const proxy = d.do(() =>
    r.receive("in:2", { type: "Deregistration", poolHandle: POOL, poolElementId: 7 }, d.now)
  );
  const [refused] = Driver.sent(proxy, "in:2");
  assert.equal(
    refused.type === "DeregistrationResponse" && refused.operationError?.[0].code,
    ErrorCauseCode.RejectedDueToSecurity,
  );
  assert.ok(r.handlespace.find(POOL, 7));
  const out = d.do(() =>
    r.receive("in:1", { type: "Deregistration", poolHandle: POOL, poolElementId: 7 }, d.now)
  );
  assert.deepEqual(Driver.sent(out, "in:1"), [{
    type: "DeregistrationResponse",
    poolHandle: POOL,
    poolElementId: 7,
  }]);
  const [del] = Driver.sent(out, "in:peer");
  assert.equal(del.type === "HandleUpdate" && del.updateAction, 1);
  const unknown = d.do(() =>
    r.receive("in:1", { type: "Deregistration", poolHandle: text("Nope"), poolElementId: 7 }, d.now)
  );
  // Granted: an element the registrar does not know is gone already (RFC 5352 §3.2).
  const [response] = Driver.sent(unknown, "in:1");
  assert.equal(response.type, "DeregistrationResponse");
  assert.equal(response.type === "DeregistrationResponse" && response.operationError, undefined);
});

Deno.test("handle resolution: default items, the option, 'as many as possible', unknown pool", () => {
  const { r, d } = setup({ defaultHandleResolutionItems: 3, maxHandleResolutionItems: 5 });
  asap(r, d, "in:1");
  for (let i = 1; i <= 8; i++) register(r, d, "in:1", element(i, { type: "LeastUsed", load: i }));
  const resolve = (items?: number) => {
    const [m] = Driver.sent(
      d.do(() =>
        r.receive("in:1", {
          type: "HandleResolution",
          poolHandle: POOL,
          ...(items === undefined ? {} : { items }),
        }, d.now)
      ),
      "in:1",
    );
    assert.equal(m.type, "HandleResolutionResponse");
    return m.type === "HandleResolutionResponse" ? m : assert.fail();
  };
  const byDefault = resolve();
  assert.deepEqual(byDefault.poolElements.map((p) => p.identifier), [1, 2, 3]);
  assert.deepEqual(byDefault.policy, { type: "LeastUsed", load: 1 });
  assert.equal(byDefault.poolElements[0].asapTransport, undefined, "no ASAP transport for users");
  assert.equal(resolve(1).poolElements.length, 1);
  assert.equal(resolve(HANDLE_RESOLUTION_ITEMS_MAX).poolElements.length, 5);
  assert.equal(resolve(100).poolElements.length, 5);
  const [missing] = Driver.sent(
    d.do(() => r.receive("in:1", { type: "HandleResolution", poolHandle: text("Nope") }, d.now)),
    "in:1",
  );
  assert.deepEqual(missing, {
    type: "HandleResolutionResponse",
    poolHandle: text("Nope"),
    poolElements: [],
    operationError: [{ code: ErrorCauseCode.UnknownPoolHandle, info: new Uint8Array() }],
  });
});

Deno.test("rate limits per connection (RFC 5355 §2.13, RSPLIB -maxhrrate/-maxeurate)", () => {
  const { r, d } = setup({ maxHandleResolutionRate: 2, maxEndpointUnreachableRate: 1 });
  asap(r, d, "in:1");
  register(r, d, "in:1", element(1));
  const codes: (number | undefined)[] = [];
  for (let i = 0; i < 4; i++) {
    const [m] = Driver.sent(
      d.do(() => r.receive("in:1", { type: "HandleResolution", poolHandle: POOL }, d.now)),
      "in:1",
    );
    codes.push(m.type === "HandleResolutionResponse" ? m.operationError?.[0].code : -1);
  }
  assert.deepEqual(codes, [
    undefined,
    undefined,
    ErrorCauseCode.LackOfResources,
    ErrorCauseCode.LackOfResources,
  ]);
  d.advance(1000); // tokens refill
  const [again] = Driver.sent(
    d.do(() => r.receive("in:1", { type: "HandleResolution", poolHandle: POOL }, d.now)),
    "in:1",
  );
  assert.equal(again.type === "HandleResolutionResponse" && again.operationError, undefined);
  // Unreachable reports beyond the rate are ignored: three are needed to remove the element.
  for (let i = 0; i < 3; i++) {
    d.do(() =>
      r.receive("in:1", { type: "EndpointUnreachable", poolHandle: POOL, poolElementId: 1 }, d.now)
    );
  }
  assert.equal(r.handlespace.find(POOL, 1)?.unreachableReports, 1);
});

Deno.test("MAX-BAD-PE-REPORT unreachable reports remove an element, and peers hear of it", () => {
  const { r, d } = setup({ maxBadPoolElementReports: 3 });
  peer(r, d, "in:peer", 0x200);
  asap(r, d, "in:pe");
  asap(r, d, "in:pu", 41000);
  register(r, d, "in:pe", element(5));
  for (let i = 0; i < 2; i++) {
    const reported = d.do(() =>
      r.receive("in:pu", { type: "EndpointUnreachable", poolHandle: POOL, poolElementId: 5 }, d.now)
    );
    // Each report makes the home check on the element at once (RFC 5352 §3.5).
    assert.deepEqual(Driver.sent(reported, "in:pe").map((m) => m.type), ["EndpointKeepAlive"]);
    d.do(() =>
      r.receive(
        "in:pe",
        { type: "EndpointKeepAliveAck", poolHandle: POOL, poolElementId: 5 },
        d.now,
      )
    );
  }
  assert.ok(r.handlespace.find(POOL, 5));
  const out = d.do(() =>
    r.receive("in:pu", { type: "EndpointUnreachable", poolHandle: POOL, poolElementId: 5 }, d.now)
  );
  assert.equal(r.handlespace.find(POOL, 5), undefined);
  assert.equal(Driver.sent(out, "in:peer")[0].type, "HandleUpdate");
  assert.deepEqual(Driver.events(out).map((e) => e.kind === "removed" && e.reason), [
    "unreachable",
  ]);
});

Deno.test("an unreachable report is followed by a keep-alive: unanswered, the element goes", () => {
  const { r, d } = setup({ maxBadPoolElementReports: 3 });
  asap(r, d, "in:pe");
  asap(r, d, "in:pu", 41000);
  register(r, d, "in:pe", element(5));
  const out = d.do(() =>
    r.receive("in:pu", { type: "EndpointUnreachable", poolHandle: POOL, poolElementId: 5 }, d.now)
  );
  assert.deepEqual(Driver.sent(out, "in:pe").map((m) => m.type), ["EndpointKeepAlive"]);
  const later = d.advance(d.now + r.timers.keepAliveTimeout);
  assert.equal(r.handlespace.find(POOL, 5), undefined, "no Ack within the keep-alive timeout");
  assert.deepEqual(Driver.events(later).map((e) => e.kind === "removed" && e.reason), [
    "keep-alive",
  ]);
});

Deno.test("endpoint keep-alive: sent each interval, acked; a silent element is removed", () => {
  const { r, d } = setup();
  asap(r, d, "in:1");
  register(r, d, "in:1", element(5));
  const first = d.advance(1000);
  assert.deepEqual(Driver.sent(first, "in:1"), [{
    type: "EndpointKeepAlive",
    home: false,
    registrarId: 0x100,
    poolHandle: POOL,
  }]);
  d.do(() =>
    r.receive("in:1", { type: "EndpointKeepAliveAck", poolHandle: POOL, poolElementId: 5 }, d.now)
  );
  assert.ok(r.handlespace.find(POOL, 5));
  assert.equal(
    Driver.sent(d.advance(2000), "in:1").length,
    1,
    "the next one, one interval after the ack",
  );
  const removed = d.advance(2600); // no ack within the timeout
  assert.equal(r.handlespace.find(POOL, 5), undefined);
  assert.deepEqual(Driver.events(removed).map((e) => e.kind === "removed" && e.reason), [
    "keep-alive",
  ]);
});

Deno.test("a lost connection and an ended registration life remove the elements", () => {
  const { r, d } = setup();
  peer(r, d, "in:peer", 0x200);
  asap(r, d, "in:1");
  register(r, d, "in:1", element(1));
  register(r, d, "in:1", { ...element(2), registrationLife: 700 });
  const expired = d.advance(700);
  assert.deepEqual(
    Driver.events(expired).filter((e) => e.kind === "removed").map((e) =>
      e.kind === "removed" && [e.node.identifier, e.reason]
    ),
    [[2, "expired"]],
  );
  const lost = d.do(() => r.connectionDown("in:1", d.now));
  assert.deepEqual(Driver.events(lost).map((e) => e.kind === "removed" && e.reason), [
    "connection-lost",
  ]);
  assert.equal(Driver.sent(lost, "in:peer").length, 1, "DEL_PE to the peer");
  assert.equal(r.handlespace.size, 0);
});

Deno.test("malformed input gets an ASAP Error, reportable parameters are reported, errors are not answered", () => {
  const { r, d } = setup();
  asap(r, d, "in:1");
  const send = (bytes: Uint8Array) =>
    Driver.sent(d.do(() => r.receiveBytes("in:1", bytes, d.now)), "in:1");
  const good = encodeMessage({ type: "HandleResolution", poolHandle: POOL });
  // Truncated.
  assert.deepEqual(send(good.slice(0, 10)), [{
    type: "AsapError",
    operationError: [{ code: ErrorCauseCode.InvalidValues, info: new Uint8Array() }],
  }]);
  // Unknown message type: Unrecognized Message with the message.
  const unknown = new Uint8Array([0x42, 0, 0, 4]);
  assert.deepEqual(send(unknown), [{
    type: "AsapError",
    operationError: [{ code: ErrorCauseCode.UnrecognizedMessage, info: unknown }],
  }]);
  // A parameter with action bits 01 (stop and report).
  const stopReport = new Uint8Array([...good, 0x40, 0x30, 0, 8, 1, 2, 3, 4]);
  stopReport[3] = stopReport.length;
  assert.deepEqual(send(stopReport), [{
    type: "AsapError",
    operationError: [{
      code: ErrorCauseCode.UnrecognizedParameter,
      info: new Uint8Array([0x40, 0x30, 0, 8, 1, 2, 3, 4]),
    }],
  }]);
  // Action bits 11 (skip and report): the request is answered, then the parameter reported.
  const skipReport = new Uint8Array([...good, 0xc0, 0x30, 0, 8, 1, 2, 3, 4]);
  skipReport[3] = skipReport.length;
  const replies = send(skipReport);
  assert.deepEqual(replies.map((m) => m.type), ["HandleResolutionResponse", "AsapError"]);
  // Action bits 00 (stop silently): nothing.
  const stopSilent = new Uint8Array([...good, 0x00, 0x30, 0, 8, 1, 2, 3, 4]);
  stopSilent[3] = stopSilent.length;
  assert.deepEqual(send(stopSilent), []);
  // An unknown message type whose action bits are 00 is discarded silently (RFC 5354 §4).
  assert.deepEqual(send(new Uint8Array([0x3e, 0, 0, 4])), []);
  // An ASAP Error is never answered with an ASAP Error, even a broken one.
  assert.deepEqual(send(new Uint8Array([0x0e, 0, 0, 6, 0, 0])), []);
  // Nor one whose unknown parameter asks for a report (skip and report, stop and report).
  const error = encodeMessage({
    type: "AsapError",
    operationError: [{ code: ErrorCauseCode.InvalidValues, info: new Uint8Array() }],
  });
  for (const bits of [0xc0, 0x40]) {
    const reportable = new Uint8Array([...error, bits, 0x30, 0, 8, 1, 2, 3, 4]);
    reportable[3] = reportable.length;
    assert.deepEqual(send(reportable), []);
  }
  // A message no registrar expects gets an Unspecified Error carrying it.
  const cookie = encodeMessage({ type: "Cookie", cookie: new Uint8Array(4) });
  assert.deepEqual(send(cookie), [{
    type: "AsapError",
    operationError: [{ code: ErrorCauseCode.UnspecifiedError, info: cookie }],
  }]);
});

Deno.test("handle table pages too large for a message are split, in either profile", () => {
  for (const profile of ["rfc", "nextgen"] as const) {
    const nextgen = profile === "nextgen";
    const id = (n: number) => nextgen ? BigInt(n) : n;
    const { r, d } = setup({ maxHandleTableItems: 128, profile, id: id(0x100) });
    asap(r, d, "in:1");
    // 60 elements of 120 IPv6 addresses each: about 2.5 KiB per element, 150 KiB in all.
    const addresses = Array.from({ length: 120 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
    for (let i = 1; i <= 60; i++) {
      register(r, d, "in:1", {
        ...element(i),
        identifier: id(i),
        homeRegistrarId: id(0),
        userTransport: { type: "SCTP", port: 7000 + i, transportUse: 0, addresses },
      });
    }
    d.do(() => r.accepted("in:peer", "enrp", { address: "10.0.0.2", port: 9901 }, d.now));
    const seen = new Set<unknown>();
    for (let page = 0; page < 60; page++) {
      const [m] = Driver.sent(
        d.do(() =>
          r.receive("in:peer", {
            type: "HandleTableRequest",
            ownChildrenOnly: true,
            sendingRegistrarId: id(0x200),
            receivingRegistrarId: id(0x100),
          }, d.now)
        ),
        "in:peer",
      );
      assert.equal(m?.type, "HandleTableResponse", `${profile}: page ${page + 1} was sent`);
      if (m.type !== "HandleTableResponse") break;
      assert.ok(encodedLength(m, { profile }) <= 0xffff);
      for (const pool of m.pools) for (const e of pool.poolElements) seen.add(e.identifier);
      if (!m.moreToSend) break;
    }
    assert.equal(seen.size, 60, `${profile}: every element once`);
  }
});

Deno.test("a handle resolution response too large for a message holds as many elements as fit", () => {
  const { r, d } = setup({ maxHandleResolutionItems: 128 });
  asap(r, d, "in:1");
  // 60 elements of 120 IPv6 addresses each: about 2.5 KiB per element, 150 KiB in all.
  const addresses = Array.from({ length: 120 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
  for (let i = 1; i <= 60; i++) {
    register(r, d, "in:1", {
      ...element(i),
      userTransport: { type: "SCTP", port: 7000 + i, transportUse: 0, addresses },
    });
  }
  const [m] = Driver.sent(
    d.do(() =>
      r.receive("in:1", {
        type: "HandleResolution",
        poolHandle: POOL,
        items: HANDLE_RESOLUTION_ITEMS_MAX,
      }, d.now)
    ),
    "in:1",
  );
  assert.equal(m?.type, "HandleResolutionResponse", "answered");
  if (m.type !== "HandleResolutionResponse") return;
  assert.ok(encodedLength(m) <= 0xffff, "fits into one message");
  assert.ok(m.poolElements.length > 1 && m.poolElements.length < 60);
  const oneMore = { ...m, poolElements: [...m.poolElements, m.poolElements[0]] };
  assert.throws(() => encodeMessage(oneMore), "one more element would not fit");
});

Deno.test("handle table pages with More To Send, and only own elements with W", () => {
  const { r, d } = setup({ maxHandleTableItems: 4 });
  asap(r, d, "in:1");
  for (let i = 1; i <= 9; i++) register(r, d, "in:1", element(i));
  peer(r, d, "in:peer", 0x200);
  // One element the peer told us about (owned by 0x200).
  peerAdds(r, d, "in:peer", {
    from: 0x200,
    id: 99,
    poolHandle: text("Other"),
    asapTransport: sctp("10.0.0.3", 1),
  });
  const pages = (ownChildrenOnly: boolean) => {
    const out: [boolean, number][] = [];
    for (;;) {
      const [m] = Driver.sent(
        d.do(() =>
          r.receive("in:peer", {
            type: "HandleTableRequest",
            ownChildrenOnly,
            sendingRegistrarId: 0x200,
            receivingRegistrarId: 0x100,
          }, d.now)
        ),
        "in:peer",
      );
      assert.equal(m.type, "HandleTableResponse");
      if (m.type !== "HandleTableResponse") break;
      out.push([m.moreToSend, m.pools.reduce((n, p) => n + p.poolElements.length, 0)]);
      for (const p of m.pools) {
        for (const pe of p.poolElements) assert.ok(pe.asapTransport, "with ASAP transport");
      }
      if (!m.moreToSend) break;
    }
    return out;
  };
  assert.deepEqual(pages(false), [[true, 4], [true, 4], [false, 2]]);
  assert.deepEqual(pages(true), [[true, 4], [true, 4], [false, 1]]);
});

Deno.test("presence: replies when asked, audits the checksum, resynchronises by W=1 download", () => {
  const { r, d } = setup();
  const introduced = peer(r, d, "in:peer", 0x200);
  assert.deepEqual(
    introduced.map((m) => m.type),
    ["Presence"],
    "answers the reply-required Presence",
  );
  // The peer announces an element it owns, then a Presence whose checksum disagrees (it owns more).
  for (const id of [1, 2]) {
    peerAdds(r, d, "in:peer", { from: 0x200, id, asapTransport: sctp("10.0.0.3", 1) });
  }
  const audit = d.do(() =>
    r.receive("in:peer", {
      type: "Presence",
      replyRequired: false,
      sendingRegistrarId: 0x200,
      receivingRegistrarId: 0x100,
      checksum: 0x1234,
    }, d.now)
  );
  assert.deepEqual(Driver.sent(audit, "in:peer"), [{
    type: "HandleTableRequest",
    ownChildrenOnly: true,
    sendingRegistrarId: 0x100,
    receivingRegistrarId: 0x200,
  }]);
  // The peer's table holds only element 2 (and a new 3): 1 is swept after the last page.
  const page = (moreToSend: boolean, ids: number[]) =>
    d.do(() =>
      r.receive("in:peer", {
        type: "HandleTableResponse",
        reject: false,
        moreToSend,
        sendingRegistrarId: 0x200,
        receivingRegistrarId: 0x100,
        pools: [{
          poolHandle: POOL,
          poolElements: ids.map((i) => ({
            ...element(i),
            homeRegistrarId: 0x200,
            asapTransport: sctp("10.0.0.3", 1),
          })),
        }],
      }, d.now)
    );
  const more = page(true, [2]);
  assert.equal(
    Driver.sent(more, "in:peer")[0].type,
    "HandleTableRequest",
    "asks for the next page",
  );
  assert.ok(r.handlespace.find(POOL, 1), "not swept before the last page");
  const last = page(false, [3]);
  // Element 3 learnt again from the page, element 1 (no longer listed) swept.
  assert.deepEqual(Driver.events(last).map((e) => e.kind), ["learnt", "removed", "synchronised"]);
  assert.deepEqual([...r.handlespace.ownedBy(0x200)].map((n) => n.identifier).sort(), [2, 3]);
});

Deno.test("takeover: acknowledges others, defends itself, wins or yields a contest", () => {
  const { r, d } = setup();
  peer(r, d, "in:a", 0x50); // lower id than ours (0x100)
  peer(r, d, "in:b", 0x300);
  // Someone wants to take us over: we answer with Presences, no ack.
  const self = d.do(() =>
    r.receive("in:a", {
      type: "InitTakeover",
      sendingRegistrarId: 0x50,
      receivingRegistrarId: 0x100,
      targetRegistrarId: 0x100,
    }, d.now)
  );
  assert.deepEqual(Driver.sent(self).map((m) => m.type), ["Presence", "Presence"]);
  // Someone takes a third registrar over: we ack.
  const other = d.do(() =>
    r.receive("in:b", {
      type: "InitTakeover",
      sendingRegistrarId: 0x300,
      receivingRegistrarId: 0x100,
      targetRegistrarId: 0x999,
    }, d.now)
  );
  assert.deepEqual(Driver.sent(other, "in:b"), [{
    type: "InitTakeoverAck",
    sendingRegistrarId: 0x100,
    receivingRegistrarId: 0x300,
    targetRegistrarId: 0x999,
  }]);
  // TakeoverServer moves the target's elements to the taker.
  peerAdds(r, d, "in:b", { from: 0x300, id: 8, home: 0x999, asapTransport: sctp("10.0.0.8", 1) });
  const moved = d.do(() =>
    r.receive("in:b", {
      type: "TakeoverServer",
      sendingRegistrarId: 0x300,
      receivingRegistrarId: 0x100,
      targetRegistrarId: 0x999,
    }, d.now)
  );
  assert.equal(r.handlespace.find(POOL, 8)?.homeRegistrarId, 0x300);
  assert.deepEqual(Driver.events(moved).map((e) => e.kind), ["taken-over"]);
});

Deno.test("a multicast Presence from the target stops its takeover, and the target is reached again", () => {
  const { r, d } = setup({ multicastPresence: true });
  peer(r, d, "in:target", 0x200);
  peer(r, d, "in:witness", 0x300);
  peerAdds(r, d, "in:target", { from: 0x200, id: 8, asapTransport: sctp("10.0.0.8", 1) });
  // The witness keeps talking; the target falls silent and is taken over.
  let started = false;
  while (!started && d.now < 10_000) {
    d.do(() =>
      r.receive("in:witness", {
        type: "Presence",
        replyRequired: false,
        sendingRegistrarId: 0x300,
        receivingRegistrarId: 0x100,
        checksum: 0xffff,
      }, d.now)
    );
    const out = d.advance(d.now + 500);
    started = Driver.sent(out, "in:witness").some((m) => m.type === "InitTakeover");
  }
  assert.ok(started, "an Init Takeover of the silent target");
  const back = d.do(() =>
    r.receiveMulticast(
      "enrp-presence",
      {
        type: "Presence",
        replyRequired: false,
        sendingRegistrarId: 0x200,
        receivingRegistrarId: 0,
        checksum: 0xffff,
        serverInformation: { registrarId: 0x200, transport: sctp("10.0.0.5", 9901) },
      },
      { address: "10.0.0.5", port: 9901 },
      d.now,
    )
  );
  assert.deepEqual(Driver.events(back).map((e) => e.kind), ["peer-up", "takeover-abandoned"]);
  assert.ok(back.some((a) => a.type === "connect" && a.protocol === "enrp"), "reaches it again");
  const acked = d.do(() =>
    r.receive("in:witness", {
      type: "InitTakeoverAck",
      sendingRegistrarId: 0x300,
      receivingRegistrarId: 0x100,
      targetRegistrarId: 0x200,
    }, d.now)
  );
  assert.deepEqual(Driver.sent(acked), [], "no Takeover Server once the target is back");
  assert.equal(r.handlespace.find(POOL, 8)?.homeRegistrarId, 0x200);
});

Deno.test("a Takeover Suggestion makes the registrar claim the element with a Home keep-alive", () => {
  const { r, d } = setup();
  peer(r, d, "in:peer", 0x200);
  const out = peerAdds(r, d, "in:peer", {
    from: 0x200,
    id: 4,
    asapTransport: sctp("10.0.0.4", 3333),
    takeoverSuggested: true,
  });
  const connect = out.find((a) => a.type === "connect");
  assert.deepEqual(connect?.type === "connect" && [connect.protocol, connect.remote], [
    "asap",
    sctp("10.0.0.4", 3333),
  ]);
  const id = connect?.type === "connect" ? connect.connection : assert.fail("no connect");
  const up = d.do(() => r.connectionUp(id, d.now));
  assert.deepEqual(Driver.sent(up), [{
    type: "EndpointKeepAlive",
    home: true,
    registrarId: 0x100,
    poolHandle: POOL,
  }]);
  // And suggesting: the hook names a peer for our own elements.
  const s = setup({ suggestTakeover: (_n, peers) => peers[0] });
  peer(s.r, s.d, "in:peer", 0x200);
  asap(s.r, s.d, "in:1");
  const updates = Driver.sent(register(s.r, s.d, "in:1", element(1)), "in:peer");
  assert.deepEqual(updates.map((m) => m.type === "HandleUpdate" && m.takeoverSuggested), [
    false,
    true,
  ]);
});

Deno.test("list request, announces and presence multicast", () => {
  const { r, d } = setup({ multicastPresence: true });
  peer(r, d, "in:peer", 0x200);
  const [list] = Driver.sent(
    d.do(() =>
      r.receive("in:peer", {
        type: "ListRequest",
        sendingRegistrarId: 0x200,
        receivingRegistrarId: 0x100,
      }, d.now)
    ),
    "in:peer",
  );
  assert.deepEqual(list, {
    type: "ListResponse",
    reject: false,
    sendingRegistrarId: 0x100,
    receivingRegistrarId: 0x200,
    servers: [{ registrarId: 0x200, transport: sctp("10.0.0.2", 9901) }],
  });
  const out = d.advance(1000); // announces at 0 and 1000 ms, a Presence at 1000 ms
  const multicast = out.filter((a) => a.type === "multicast").map((a) =>
    a.type === "multicast" ? `${a.channel} ${a.message.type}` : ""
  );
  assert.deepEqual(multicast.sort(), [
    "asap-announce ServerAnnounce",
    "asap-announce ServerAnnounce",
    "enrp-presence Presence",
  ]);
});

Deno.test("next-generation profile: 64-bit identifiers and the Internet-32 checksum in Presences", () => {
  const { r, d } = setup({
    id: 0x1234_5678_9abcn,
    profile: "nextgen",
    enrpTransport: sctp("10.0.0.1", 9911),
  });
  d.do(() => r.accepted("in:1", "asap", { address: "10.0.0.9", port: 40000 }, d.now));
  const pe = { ...element(1), identifier: 0xffff_ffff_ffffn, homeRegistrarId: 0n };
  const [response] = Driver.sent(
    d.do(() =>
      r.receiveBytes(
        "in:1",
        encodeMessage({ type: "Registration", poolHandle: POOL, poolElement: pe }, {
          profile: "nextgen",
        }),
        d.now,
      )
    ),
  );
  assert.deepEqual(response, {
    type: "RegistrationResponse",
    reject: false,
    poolHandle: POOL,
    poolElementId: 0xffff_ffff_ffffn,
  });
  d.do(() => r.accepted("in:p", "enrp", undefined, d.now));
  const [presence] = Driver.sent(
    d.do(() =>
      r.receive("in:p", {
        type: "Presence",
        replyRequired: true,
        sendingRegistrarId: 7n,
        receivingRegistrarId: 0n,
        checksum: 0xffffffff,
      }, d.now)
    ),
  );
  assert.equal(
    presence.type === "Presence" && presence.checksum,
    r.handlespace.checksum(r.id, "internet32"),
  );
  assert.equal(presence.type === "Presence" && presence.sendingRegistrarId, 0x1234_5678_9abcn);
});
