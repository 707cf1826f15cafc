// A registrar, elements and a user talking over loopback on Node, including mutual TLS,
// which only Node's TLS server can do.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import {
  authorizeRegistrations,
  createPoolUser,
  echoService,
  registerPoolElement,
  startRegistrar,
} from "rserpool/runtime";

const text = (b) => new TextDecoder().decode(b);
async function until(what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("register, resolve, talk, fail over with the cookie", async () => {
  const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  const elements = [];
  for (let i = 0; i < 2; i++) {
    elements.push(
      await registerPoolElement({
        poolHandle: "echo",
        registrars,
        serve: echoService(),
      }),
    );
  }
  await Promise.all(elements.map((e) => e.registered()));
  const pu = await createPoolUser({ registrars });
  const got = [];
  let failovers = 0;
  const session = await pu.connect("echo", {
    data: (b) => got.push(text(b)),
    failover: () => failovers++,
  });
  session.send("one");
  await until(() => got.length === 1);
  await elements.find((e) => e.identifier === session.element.identifier)
    .abort();
  await until(() => failovers === 1);
  session.send("two");
  await until(() => got.length === 2);
  assert.deepEqual(got, ["one", "two"]);
  await pu.close();
  for (const e of elements) await e.close();
  await pr.stop();
});

test("mutual TLS: certificates decide who may register", async () => {
  const pem = (name) => readFile(new URL(`./certs/${name}`, import.meta.url), "utf8");
  const ca = await pem("ca.crt");
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    tls: {
      cert: await pem("registrar.crt"),
      key: await pem("registrar.key"),
      ca,
      requestClientCertificate: true,
    },
    authorize: authorizeRegistrations({
      rules: [{ pools: ["echo"], identities: ["CN=pe-alpha"] }],
    }),
  });
  const registrars = [`127.0.0.1:${pr.asap.port}`];
  const alpha = {
    ca,
    cert: await pem("pe-alpha.crt"),
    key: await pem("pe-alpha.key"),
  };
  const element = await registerPoolElement({
    poolHandle: "echo",
    registrars,
    tls: alpha,
    serve: echoService(),
  });
  await element.registered();
  const refused = await registerPoolElement({
    poolHandle: "other",
    registrars,
    tls: alpha,
    serve: echoService(),
  });
  await assert.rejects(
    refused.registered(3000),
    /registration refused: cause 0xa/,
  );
  assert.equal(pr.status().handlespace.elements, 1);
  await refused.abort();
  await element.close();
  await pr.stop();
});
