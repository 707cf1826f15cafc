import assert from "node:assert/strict";
import { RSerPoolError } from "../errors.ts";
import { registerPoolElement, type RunningPoolElement } from "./element.ts";
import { startRegistrar } from "./registrar.ts";
import { echoService, readEchoCookie } from "./services.ts";
import { createPoolUser } from "./user.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function until(what: () => boolean, ms = 5000, label = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("runtime: elements register, a user resolves, talks, and fails over with its cookie", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  const cookiesSeen: number[] = [];
  const elements: RunningPoolElement[] = [];
  for (let i = 0; i < 2; i++) {
    const serve = echoService();
    elements.push(
      await registerPoolElement({
        poolHandle: "echo",
        registrars,
        serve: (session) => {
          const h = serve(session);
          return {
            ...h,
            cookieEcho: (cookie) => {
              cookiesSeen.push(readEchoCookie(cookie)!);
              h.cookieEcho?.(cookie);
            },
          };
        },
      }),
    );
  }
  await Promise.all(elements.map((e) => e.registered()));
  assert.equal(pr.status().handlespace.elements, 2);
  assert.equal(pr.pools()[0].handle, "echo");

  const pu = await createPoolUser({ registrars });
  const resolved = await pu.resolve("echo");
  assert.deepEqual(
    new Set(resolved.map((e) => e.identifier)),
    new Set(elements.map((e) => e.identifier)),
  );
  const received: string[] = [];
  const failovers: string[] = [];
  const session = await pu.connect("echo", {
    data: (bytes) => received.push(text(bytes)),
    failover: ({ reason }) => failovers.push(reason),
  });
  session.send("one");
  session.send("two");
  await until(() => received.length === 2, 5000, "two echoes");
  assert.deepEqual(received, ["one", "two"]);

  // Kill the element the session talks to: the user moves to the other one.
  const first = elements.find((e) => e.identifier === session.element!.identifier)!;
  await first.abort();
  await until(() => failovers.length === 1, 5000, "failover");
  assert.notEqual(session.element!.identifier, first.identifier);
  session.send("three");
  await until(() => received.length === 3, 5000, "echo after failover");
  assert.equal(received[2], "three");
  // The new element got the cookie the old one last sent: two messages echoed.
  assert.deepEqual(cookiesSeen, [2]);
  // The registrar noticed the element's connection go and removed it.
  await until(() => pr.status().handlespace.elements === 1, 5000, "removal");
  assert.equal(pr.status().counters.removals["connection-lost"], 1);

  session.close();
  await pu.close();
  const other = elements.find((e) => e !== first)!;
  await other.close();
  await until(() => pr.status().handlespace.elements === 0, 5000, "deregistration");
  assert.equal(pr.status().counters.removals["deregistered"], 1);
  await pr.stop();
});

Deno.test("runtime: resolving an unknown pool fails with the registrar's cause", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const pu = await createPoolUser({ registrars: [`127.0.0.1:${pr.asap.port}`] });
  await assert.rejects(
    pu.resolve("nobody-here"),
    (e) => e instanceof RSerPoolError && e.code === "resolution-failed",
  );
  await assert.rejects(
    pu.connect("nobody-here", {}),
    (e) => e instanceof RSerPoolError && e.code === "no-element",
  );
  await pu.close();
  await pr.stop();
});

Deno.test("runtime: a registrar fails, its peer takes its element over and becomes its home", async () => {
  const timers = {
    peerHeartbeatCycle: 200,
    maxTimeLastHeard: 600,
    maxTimeNoResponse: 300,
    mentorHuntTimeout: 300,
    takeoverExpiry: 500,
  };
  const pr1 = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0", timers });
  const pr2 = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    peers: [`127.0.0.1:${pr1.enrp.port}`],
    timers,
  });
  await until(() => pr2.status().peers.some((p) => p.connected), 5000, "peering");
  const homes: unknown[] = [];
  const pe = await registerPoolElement({
    poolHandle: "echo",
    registrars: [`127.0.0.1:${pr1.asap.port}`], // only the registrar that will fail
    serve: echoService(),
    onEvent: (e) => e.kind === "home-changed" && homes.push(e.registrarId),
  });
  await pe.registered();
  await until(() => pr2.status().handlespace.elements === 1, 5000, "the peer to learn the element");
  assert.equal(pr2.status().handlespace.owned, 0);

  await pr1.stop();
  await until(() => pr2.status().counters.takeovers === 1, 5000, "takeover");
  await until(() => homes.length === 1, 5000, "the element to accept its new home");
  assert.equal(homes[0], pr2.id);
  await until(() => pe.isRegistered, 5000, "re-registration with the new home");
  assert.equal(pe.element.homeRegistrarId, pr2.id);
  assert.equal(pr2.status().handlespace.owned, 1);
  assert.equal(pe.sessions, 0, "the registrar's connection is not an application session");

  // Users of the surviving registrar reach the element.
  const pu = await createPoolUser({ registrars: [`127.0.0.1:${pr2.asap.port}`] });
  const got: string[] = [];
  const session = await pu.connect("echo", { data: (b) => got.push(text(b)) });
  session.send("still here");
  await until(() => got.length === 1, 5000, "echo");
  assert.deepEqual(got, ["still here"]);
  await pu.close();
  await pe.close();
  await pr2.stop();
});
