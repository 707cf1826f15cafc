import assert from "node:assert/strict";
import type { TransportParameter } from "../protocol/types.ts";
import { HomeRegistrar } from "./home.ts";
import { RegistrarCandidates } from "./hunt.ts";

const tcp = (port: number): TransportParameter => ({
  type: "TCP",
  port,
  transportUse: 0,
  addresses: ["127.0.0.1"],
});

function link(statics: TransportParameter[]) {
  const opened: number[] = [];
  let n = 0;
  const home = new HomeRegistrar(
    new RegistrarCandidates(statics, 5000, "TCP"),
    1000,
    (remote) => {
      opened.push(remote.port);
      return `out:${n++}`;
    },
    () => {},
  );
  return { home, opened };
}

Deno.test("hunt: after a round of refusals it pauses once, then tries again", () => {
  const { home, opened } = link([tcp(1), tcp(2)]);
  assert.equal(home.hunt(0), true);
  home.connectionDown(home.pending!);
  assert.equal(home.hunt(0), true);
  home.connectionDown(home.pending!);
  assert.equal(home.hunt(0), false, "both refused: wait before the next round");
  assert.equal(home.hunt(1000), true);
  assert.deepEqual(opened, [1, 2, 1]);
});

Deno.test("hunt: a timed-out attempt counts as a failure; success resets the count", () => {
  const { home, opened } = link([tcp(1)]);
  home.hunt(0);
  assert.equal(home.checkTimeout(999), false);
  assert.equal(home.checkTimeout(1000), true);
  assert.equal(home.hunt(1000), false);
  home.hunt(2000);
  assert.equal(home.connectionUp(home.pending!), true);
  home.confirm();
  home.connectionDown(home.connection!);
  assert.equal(home.hunt(2100), true, "a lost home that had answered is hunted for at once");
  assert.deepEqual(opened, [1, 1, 1]);
});

Deno.test("hunt: a home lost before it ever answered counts as a failure", () => {
  const { home, opened } = link([tcp(1)]);
  home.hunt(0);
  home.connectionUp(home.pending!);
  home.connectionDown(home.connection!); // e.g. TLS: our certificate refused after the handshake
  assert.equal(home.hunt(10), false, "wait before trying again");
  assert.equal(home.hunt(1010), true);
  assert.deepEqual(opened, [1, 1]);
});
