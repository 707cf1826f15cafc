import assert from "node:assert/strict";
import { registerPoolElement } from "./element.ts";
import { startRegistrar } from "./registrar.ts";
import { echoService } from "./services.ts";
import { createPoolUser } from "./user.ts";

async function until(what: () => boolean, ms = 5000, label = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// A group and ports of our own on loopback, so that parallel runs do not meet.
const port = 20000 + Math.floor(Math.random() * 20000);
const channel = (offset: number) => ({
  group: "239.255.77.1",
  port: port + offset,
  interface: "127.0.0.1",
  ttl: 1,
});

Deno.test("multicast: elements and users find the registrar by its Server Announces", async () => {
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    announce: channel(0),
    timers: { serverAnnounceCycle: 100 },
  });
  // No registrar configured: only the announces say where it is.
  const pe = await registerPoolElement({
    poolHandle: "echo",
    registrars: [],
    announce: channel(0),
    serve: echoService(),
  });
  await pe.registered();
  assert.equal(pe.element.homeRegistrarId, pr.id);
  const pu = await createPoolUser({ registrars: [], announce: channel(0) });
  const elements = await pu.resolve("echo");
  assert.deepEqual(elements.map((e) => e.identifier), [pe.identifier]);
  await pu.close();
  await pe.close();
  await pr.stop();
});

Deno.test("multicast: registrars find each other by ENRP Presences", async () => {
  const timers = { peerHeartbeatCycle: 100, mentorHuntTimeout: 300 };
  const pr1 = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    presence: channel(1),
    timers,
  });
  const pr2 = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    presence: channel(1),
    timers,
  });
  await until(
    () =>
      pr1.status().peers.some((p) => p.connected) && pr2.status().peers.some((p) => p.connected),
    5000,
    "peering by multicast",
  );
  const pe = await registerPoolElement({
    poolHandle: "echo",
    registrars: [`127.0.0.1:${pr1.asap.port}`],
    serve: echoService(),
  });
  await pe.registered();
  await until(() => pr2.status().handlespace.elements === 1, 5000, "the element to reach pr2");
  await pe.close();
  await pr1.stop();
  await pr2.stop();
});
