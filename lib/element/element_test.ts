import assert from "node:assert/strict";
import { SeededRandom } from "../policy/random.ts";
import type { TransportParameter } from "../protocol/types.ts";
import type { Action } from "../role/actions.ts";
import { Driver } from "../testing/driver.ts";
import { PoolElement, type PoolElementEvent, type PoolElementOptions } from "./element.ts";

const POOL = new TextEncoder().encode("EchoPool");
const sctp = (address: string, port: number): TransportParameter => ({
  type: "SCTP",
  port,
  transportUse: 0,
  addresses: [address],
});
const PR1 = sctp("10.0.0.1", 3863);
const PR2 = sctp("10.0.0.2", 3863);

function setup(options: Partial<PoolElementOptions> = {}) {
  const pe = new PoolElement({
    poolHandle: POOL,
    identifier: 0xabc,
    policy: { type: "LeastUsed", load: 0 },
    userTransport: sctp("10.0.0.9", 7000),
    registrars: [PR1, PR2],
    reregistrationInterval: 10_000,
    timers: { registrationTimeout: 1000, deregistrationTimeout: 1000, connectTimeout: 2000 },
    random: new SeededRandom(3),
    ...options,
  });
  const d = new Driver<PoolElementEvent>(pe);
  return { pe, d };
}

function connects(actions: Action<PoolElementEvent>[]): [string, TransportParameter][] {
  return actions.flatMap((a) =>
    a.type === "connect" ? [[a.connection, a.remote] as [string, TransportParameter]] : []
  );
}

function registered(pe: PoolElement, d: Driver<PoolElementEvent>): string {
  const [[connection]] = connects(d.do(() => pe.start(0)));
  d.do(() => pe.connectionUp(connection, d.now));
  d.do(() =>
    pe.receive(connection, {
      type: "RegistrationResponse",
      reject: false,
      poolHandle: POOL,
      poolElementId: pe.identifier,
    }, d.now)
  );
  return connection;
}

Deno.test("start: connects to the first registrar and registers there", () => {
  const { pe, d } = setup();
  const out = d.do(() => pe.start(0));
  assert.deepEqual(connects(out).map(([, r]) => r), [PR1]);
  const [[connection]] = connects(out);
  const sent = Driver.sent(d.do(() => pe.connectionUp(connection, 5)), connection);
  assert.deepEqual(sent, [{
    type: "Registration",
    poolHandle: POOL,
    poolElement: {
      identifier: 0xabc,
      homeRegistrarId: 0,
      registrationLife: 30_000, // 3 × the re-registration interval, as RSPLIB
      userTransport: sctp("10.0.0.9", 7000),
      policy: { type: "LeastUsed", load: 0 },
    },
  }]);
  const events = Driver.events(
    d.do(() =>
      pe.receive(connection, {
        type: "RegistrationResponse",
        reject: false,
        poolHandle: POOL,
        poolElementId: 0xabc,
      }, 10)
    ),
  );
  assert.deepEqual(events, [{ kind: "registered", registrarId: undefined, first: true }]);
  assert.ok(pe.isRegistered);
});

Deno.test("re-registers every interval, well before the registration life ends", () => {
  const { pe, d } = setup();
  const connection = registered(pe, d);
  const times: number[] = [];
  for (let t = 0; t <= 35_000; t += 500) {
    const sent = Driver.sent(d.advance(t), connection);
    for (const m of sent) {
      if (m.type === "Registration") {
        times.push(t);
        d.do(() =>
          pe.receive(connection, {
            type: "RegistrationResponse",
            reject: false,
            poolHandle: POOL,
            poolElementId: pe.identifier,
          }, t)
        );
      }
    }
  }
  assert.deepEqual(times, [10_000, 20_000, 30_000]);
  assert.ok(times[0] < 30_000, "long before the 30 s life ends");
});

Deno.test("T2: retransmits, then hunts the next registrar after MAX-REG-ATTEMPT", () => {
  const { pe, d } = setup({ maxRegistrationAttempts: 2 });
  const [[first]] = connects(d.do(() => pe.start(0)));
  d.do(() => pe.connectionUp(first, 0));
  const retry = Driver.sent(d.advance(1000), first);
  assert.deepEqual(retry.map((m) => m.type), ["Registration"]);
  const give = d.advance(2000);
  assert.ok(give.some((a) => a.type === "close" && a.connection === first));
  assert.deepEqual(connects(give).map(([, r]) => r), [PR2]);
  assert.deepEqual(Driver.events(give).map((e) => e.kind), ["registrar-lost"]);
});

Deno.test("a connection attempt that takes too long moves on to the next candidate", () => {
  const { pe, d } = setup();
  d.do(() => pe.start(0));
  const out = d.advance(2000);
  assert.deepEqual(connects(out).map(([, r]) => r), [PR2]);
});

Deno.test("keep-alives are answered; the Home flag moves the element to the sender", () => {
  const { pe, d } = setup();
  const home = registered(pe, d);
  const ack = Driver.sent(
    d.do(() =>
      pe.receive(home, {
        type: "EndpointKeepAlive",
        home: false,
        registrarId: 0x11,
        poolHandle: POOL,
      }, 100)
    ),
    home,
  );
  assert.deepEqual(ack, [{ type: "EndpointKeepAliveAck", poolHandle: POOL, poolElementId: 0xabc }]);
  assert.equal(pe.homeRegistrarId, 0x11);
  // Another pool's keep-alive is silently discarded (RFC 5352 §3.4, KA1).
  const other = d.do(() =>
    pe.receive(home, {
      type: "EndpointKeepAlive",
      home: true,
      registrarId: 0x33,
      poolHandle: new TextEncoder().encode("OtherPool"),
    }, 150)
  );
  assert.deepEqual(Driver.sent(other, home), []);
  assert.equal(pe.homeRegistrarId, 0x11);
  // Another registrar took over and connected to us.
  d.do(() => pe.accepted("in:7", "asap", { address: "10.0.0.2", port: 3863 }, 200));
  const out = d.do(() =>
    pe.receive("in:7", {
      type: "EndpointKeepAlive",
      home: true,
      registrarId: 0x22,
      poolHandle: POOL,
    }, 200)
  );
  assert.deepEqual(Driver.sent(out, "in:7").map((m) => m.type), [
    "EndpointKeepAliveAck",
    "Registration",
  ]);
  assert.ok(out.some((a) => a.type === "close" && a.connection === home), "the old home is closed");
  assert.deepEqual(Driver.events(out), [{ kind: "home-changed", registrarId: 0x22 }]);
  assert.equal(pe.homeConnection, "in:7");
});

Deno.test("deregistration, refusal and a policy update", () => {
  const { pe, d } = setup();
  const home = registered(pe, d);
  const update = Driver.sent(
    d.do(() => pe.updatePolicy({ type: "LeastUsed", load: 0x80000000 }, 50)),
    home,
  );
  assert.deepEqual(update.map((m) => m.type === "Registration" && m.poolElement.policy), [{
    type: "LeastUsed",
    load: 0x80000000,
  }]);
  const refused = Driver.events(d.do(() =>
    pe.receive(home, {
      type: "RegistrationResponse",
      reject: true,
      poolHandle: POOL,
      poolElementId: 0xabc,
      operationError: [{ code: 5, info: new Uint8Array() }],
    }, 60)
  ));
  assert.deepEqual(refused.map((e) => e.kind), ["registration-refused"]);
  assert.equal(pe.isRegistered, false);
  const dereg = d.do(() => pe.deregister(70));
  assert.deepEqual(Driver.sent(dereg, home), []);
  assert.deepEqual(
    Driver.events(dereg).map((e) => e.kind),
    ["deregistered"],
    "not registered: done at once",
  );
  const again = setup();
  const h2 = registered(again.pe, again.d);
  const sent = Driver.sent(again.d.do(() => again.pe.deregister(10)), h2);
  assert.deepEqual(sent, [{ type: "Deregistration", poolHandle: POOL, poolElementId: 0xabc }]);
  const done = again.d.do(() =>
    again.pe.receive(
      h2,
      { type: "DeregistrationResponse", poolHandle: POOL, poolElementId: 0xabc },
      20,
    )
  );
  assert.deepEqual(Driver.events(done).map((e) => e.kind), ["deregistered"]);
  assert.ok(done.some((a) => a.type === "close" && a.connection === h2));
  assert.equal(again.pe.state, "closed");
});

Deno.test("deregistering while a registration is unanswered takes it back too", () => {
  // Found by the conformance suite: stopping right after registering left the element registered.
  const { pe, d } = setup();
  const [[connection]] = connects(d.do(() => pe.start(0)));
  d.do(() => pe.connectionUp(connection, 1));
  assert.equal(pe.isRegistered, false);
  const sent = Driver.sent(d.do(() => pe.deregister(2)), connection);
  assert.deepEqual(sent, [{ type: "Deregistration", poolHandle: POOL, poolElementId: 0xabc }]);
  const late = d.do(() =>
    pe.receive(connection, {
      type: "RegistrationResponse",
      reject: false,
      poolHandle: POOL,
      poolElementId: 0xabc,
    }, 3)
  );
  assert.deepEqual(Driver.sent(late, connection), [], "no re-registration while deregistering");
  assert.equal(pe.nextDeadline(), 2 + 1000, "only the deregistration timer runs");
  const done = d.do(() =>
    pe.receive(connection, {
      type: "DeregistrationResponse",
      poolHandle: POOL,
      poolElementId: 0xabc,
    }, 4)
  );
  assert.deepEqual(Driver.events(done).map((e) => e.kind), ["deregistered"]);
});

Deno.test("without static registrars it waits for a Server Announce", () => {
  const { pe, d } = setup({ registrars: [] });
  const start = d.do(() => pe.start(0));
  assert.deepEqual(Driver.events(start).map((e) => e.kind), ["no-registrar"]);
  const out = d.do(() =>
    pe.receiveMulticast(
      "asap-announce",
      { type: "ServerAnnounce", registrarId: 0x77, transports: [] },
      { address: "10.0.0.5", port: 3863 },
      100,
    )
  );
  assert.deepEqual(connects(out).map(([, r]) => r), [sctp("10.0.0.5", 3863)]);
});

Deno.test("a lost home connection starts a new hunt", () => {
  const { pe, d } = setup();
  const home = registered(pe, d);
  const out = d.do(() => pe.connectionDown(home, 500));
  assert.deepEqual(Driver.events(out).map((e) => e.kind), ["registrar-lost"]);
  assert.equal(connects(out).length, 1);
  assert.equal(pe.isRegistered, false);
});

Deno.test("control channel: cookie echo and business card reach the application", () => {
  const { pe, d } = setup();
  const cookie = Driver.sent(
    d.do(() => pe.sendCookie("in:s", new Uint8Array([1, 2, 3, 4]))),
    "in:s",
  );
  assert.deepEqual(cookie, [{ type: "Cookie", cookie: new Uint8Array([1, 2, 3, 4]) }]);
  const echo = Driver.events(
    d.do(() => pe.receive("in:s", { type: "CookieEcho", cookie: new Uint8Array([9]) }, 0)),
  );
  assert.deepEqual(echo, [{ kind: "cookie-echo", session: "in:s", cookie: new Uint8Array([9]) }]);
});
