import assert from "node:assert/strict";
import net from "node:net";
import { startRegistrar } from "../lib/runtime/registrar.ts";
import { healthCheck, networkFuzz } from "./network.ts";

Deno.test("network fuzzing: the registrar keeps serving through mutated ASAP and ENRP bursts", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const asap = await networkFuzz({ asap: pr.asap, seed: 5, bursts: 15, burstSize: 40 });
  assert.equal(asap.unhealthy, undefined, asap.unhealthy?.reason);
  assert.equal(asap.healthy, 15);
  // Bursts end early when the registrar closes a connection that sent garbage.
  assert.ok(asap.messages >= 15 && asap.messages <= 15 * 40, `${asap.messages} messages`);
  const enrp = await networkFuzz({
    asap: pr.asap,
    send: pr.enrp,
    protocol: "enrp",
    seed: 6,
    bursts: 15,
    burstSize: 40,
  });
  assert.equal(enrp.unhealthy, undefined, enrp.unhealthy?.reason);
  assert.ok(pr.status().counters.protocolErrors + pr.status().counters.connectionErrors > 0);
  await pr.stop();
});

Deno.test("network fuzzing: a target that stops answering is reported, with the last inputs", async () => {
  // Accepts connections, never answers.
  const sockets: net.Socket[] = [];
  const mute = net.createServer((s) => {
    s.on("error", () => {});
    sockets.push(s);
  });
  await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
  const port = (mute.address() as net.AddressInfo).port;
  assert.match(
    (await healthCheck({ address: "127.0.0.1", port }, 200))!,
    /no answer in 200 ms/,
  );
  const stats = await networkFuzz({
    asap: { address: "127.0.0.1", port },
    seed: 1,
    bursts: 5,
    healthTimeout: 200,
  });
  assert.equal(stats.unhealthy?.burst, 1);
  assert.equal(stats.unhealthy?.lastInputs.length, 10);
  for (const s of sockets) s.destroy();
  await new Promise((r) => mute.close(r));
  assert.match((await healthCheck({ address: "127.0.0.1", port }, 200))!, /cannot connect/);
});
