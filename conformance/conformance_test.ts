/**
 * The conformance suite itself: its catalogue, its runner's verdicts
 * (including failures against misbehaving targets), its reports, captures
 * and capture checks, and a run of the next-generation profile against the
 * built-in registrar. (`deno task conformance`, part of CI, runs every case
 * against the built-in implementation in the RFC profile.)
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { readCapture } from "../lib/capture/mod.ts";
import { writePcap } from "../lib/capture/writer.ts";
import { decodeMessage, encodeAsap } from "../lib/protocol/codec.ts";
import { startRegistrar } from "../lib/runtime/registrar.ts";
import { SctpUdpTransport } from "../lib/transport/sctp/udp.ts";
import { BUILTIN_TIMERS, startBuiltinTargets } from "./builtin.ts";
import { ALL_CASES } from "./cases/mod.ts";
import type { RunConfig } from "./context.ts";
import { casePcap } from "./pcap.ts";
import { casesMarkdown, htmlReport, jsonReport, junitReport } from "./report.ts";
import { matches, runConformance } from "./runner.ts";
import { checkCapture } from "./trace.ts";
import { ALL_FEATURES, type ConformanceReport, type Feature } from "./types.ts";
import type { WireRecord } from "./peer.ts";

const TESTDATA = new URL("./testdata/rsplib-3.4.4/", import.meta.url);

function config(over: Partial<RunConfig>): RunConfig {
  return {
    profile: "rfc",
    timers: BUILTIN_TIMERS,
    features: new Set<Feature>(ALL_FEATURES.filter((f) => f !== "nextgen-ids")),
    strict: false,
    listenHost: "127.0.0.1",
    ...over,
  };
}

function verdicts(report: ConformanceReport): Record<string, string> {
  return Object.fromEntries(report.cases.map((c) => [c.id, c.verdict]));
}

Deno.test("catalogue: unique, well-formed ids; every case documented; CASES.md up to date", () => {
  const ids = ALL_CASES.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
  for (const c of ALL_CASES) {
    assert.match(c.id, /^[a-z]+(\/[a-z0-9-]+)+$/, c.id);
    assert.match(c.ref, /RFC \d{4}|draft-/, `${c.id}: section`);
    assert.ok(c.requirement.length > 30, `${c.id}: requirement`);
    assert.ok(c.timeout(BUILTIN_TIMERS) > 0);
  }
  assert.ok(ALL_CASES.length >= 120, `${ALL_CASES.length} cases`);
  const file = readFileSync(new URL("./CASES.md", import.meta.url), "utf8");
  assert.equal(
    file,
    casesMarkdown(ALL_CASES),
    "regenerate: deno task conformance --list --markdown > conformance/CASES.md",
  );
});

Deno.test("selection globs", () => {
  assert.ok(matches("asap/registrar/registration/accept", "asap/registrar"));
  assert.ok(matches("asap/registrar/registration/accept", "asap/*/registration/*"));
  assert.ok(!matches("asap/registrar/registration/accept", "asap/*/accept"));
  assert.ok(matches("asap/registrar/registration/accept", "asap/**/accept"));
  assert.ok(!matches("asap/registrar-x/y", "asap/registrar"));
});

Deno.test("verdicts: a registrar that misbehaves fails, with evidence; missing features and roles are UNSUPPORTED", async () => {
  // A registrar that needs five unreachable reports where the suite is told four.
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    maxBadPoolElementReports: 5,
    timers: { keepAliveInterval: 500, keepAliveTimeout: 500 },
  });
  const report = await runConformance(ALL_CASES, {
    config: config({ asap: pr.asap, features: new Set() }),
    cases: [
      "asap/registrar/unreachable/max-bad-pe-report",
      "asap/registrar/resolution/hropt-items",
      "asap/registrar/registration/accept",
      "enrp/registrar/list/response",
      "asap/element/registration/content",
    ],
  });
  await pr.stop();
  assert.deepEqual(verdicts(report), {
    "asap/registrar/unreachable/max-bad-pe-report": "FAILED",
    "asap/registrar/resolution/hropt-items": "UNSUPPORTED",
    "asap/registrar/registration/accept": "OK",
    "enrp/registrar/list/response": "UNSUPPORTED",
    "asap/element/registration/content": "UNSUPPORTED",
  });
  const failed = report.cases.find((c) => c.verdict === "FAILED")!;
  assert.match(
    failed.evidence.expected!,
    new RegExp(`removed after report ${BUILTIN_TIMERS.maxBadPeReports}\\b`),
  );
  assert.ok(failed.evidence.messages.filter((m) => m.direction === "sent").length >= 5);
  assert.match(report.cases.find((c) => c.id.includes("hropt"))!.reason!, /does not claim hropt/);
  assert.match(report.cases.find((c) => c.id.startsWith("enrp"))!.reason!, /--enrp/);
  assert.equal(report.summary.FAILED, 1);
  assert.equal(report.summary.total, 5);
});

Deno.test("verdicts: silence fails MUST cases and makes SHOULD cases NON-STRICT; --strict fails them", async () => {
  // Accepts connections, answers nothing.
  const sockets: net.Socket[] = [];
  const mute = net.createServer((s) => {
    s.on("error", () => {});
    sockets.push(s);
  });
  await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
  const asap = { address: "127.0.0.1", port: (mute.address() as net.AddressInfo).port };
  const fast = { ...BUILTIN_TIMERS, slack: 200 };
  const cases = [
    "asap/registrar/registration/accept",
    "asap/registrar/deregistration/empty-pool-forgotten",
  ];
  const lax = await runConformance(ALL_CASES, { config: config({ asap, timers: fast }), cases });
  assert.deepEqual(verdicts(lax), {
    "asap/registrar/registration/accept": "FAILED",
    "asap/registrar/deregistration/empty-pool-forgotten": "NON-STRICT",
  });
  assert.match(lax.cases[0].evidence.got!, /nothing within/);
  const strict = await runConformance(ALL_CASES, {
    config: config({ asap, timers: fast, strict: true }),
    cases,
  });
  assert.deepEqual(Object.values(verdicts(strict)), ["FAILED", "FAILED"]);
  for (const s of sockets) s.destroy();
  await new Promise((r) => mute.close(r));
});

Deno.test("the next-generation profile against the built-in registrar", async () => {
  const builtin = await startBuiltinTargets("nextgen");
  try {
    const report = await runConformance(ALL_CASES, {
      config: config({
        asap: builtin.asap,
        enrp: builtin.enrp,
        profile: "nextgen",
        features: new Set(ALL_FEATURES),
        element: builtin.element,
        user: builtin.user,
      }),
      cases: [
        "asap/registrar/registration",
        "asap/registrar/deregistration",
        "asap/registrar/resolution",
        "asap/registrar/error/unrecognized-message",
        "enrp/registrar/presence",
        "enrp/registrar/handle-table",
        "enrp/registrar/handle-update",
        "asap/element/registration/content",
        "asap/element/keepalive/home",
        "asap/user/failover/cookie-echo",
        "robustness/truncated-messages",
      ],
    });
    const bad = report.cases.filter((c) => c.verdict !== "OK");
    assert.deepEqual(bad.map((c) => `${c.id}: ${c.verdict} ${c.reason}`), []);
    assert.ok(report.summary.total >= 20);
    // 64-bit identifiers really were on the wire.
    const registration = report.cases[0].evidence.messages.find((m) =>
      (m.message as { type?: string }).type === "Registration"
    )!.message as { poolElement: { identifier: string } };
    assert.ok(BigInt(registration.poolElement.identifier) > 0xffffffffn);
  } finally {
    await builtin.stop();
  }
});

Deno.test("over SCTP (in TypeScript, over UDP) against the built-in registrar", async () => {
  const udpPort = 20000 + Math.floor(Math.random() * 20000);
  const here = await SctpUdpTransport.open({ host: "127.0.0.1", udpPort, remoteUdpPort: udpPort });
  const there = await SctpUdpTransport.open({ host: "127.0.0.2", udpPort, remoteUdpPort: udpPort });
  const builtin = await startBuiltinTargets("rfc", { sctp: here });
  try {
    assert.equal(builtin.sctp?.asap.transport, "SCTP");
    const report = await runConformance(ALL_CASES, {
      config: config({
        asap: builtin.sctp!.asap,
        enrp: builtin.sctp!.enrp,
        sctp: there,
        listenHost: "127.0.0.2",
      }),
      cases: [
        "asap/registrar/registration/accept",
        "asap/registrar/resolution",
        "asap/registrar/keepalive",
        "enrp/registrar/presence",
        "enrp/registrar/handle-table",
        "enrp/registrar/takeover/as-taker",
        "robustness/truncated-messages",
      ],
    });
    const bad = report.cases.filter((c) => c.verdict !== "OK");
    assert.deepEqual(bad.map((c) => `${c.id}: ${c.verdict} ${c.reason}`), []);
    assert.ok(report.summary.total >= 8, `${report.summary.total} cases`);
    // The suite's own listeners were SCTP ones: the takeover reached its element over SCTP.
    const taker = report.cases.find((c) => c.id === "enrp/registrar/takeover/as-taker")!;
    assert.ok(taker.evidence.notes.some((n) => /accepted from sctp:\/\//.test(n)), "SCTP accept");
  } finally {
    await builtin.stop();
    await here.close();
    await there.close();
  }
});

Deno.test("reports: JSON as specified, JUnit with failures and skips, HTML", async () => {
  const pr = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    maxBadPoolElementReports: 5,
  });
  const report = await runConformance(ALL_CASES, {
    config: config({ asap: pr.asap, features: new Set() }),
    cases: [
      "asap/registrar/registration/accept",
      "asap/registrar/unreachable/max-bad-pe-report",
      "asap/registrar/resolution/hropt-items",
    ],
    target: { asap: `tcp://127.0.0.1:${pr.asap.port}`, builtin: false },
  });
  await pr.stop();
  const json = JSON.parse(jsonReport(report));
  assert.deepEqual(Object.keys(json).sort(), ["cases", "summary", "target"]);
  assert.deepEqual(Object.keys(json.cases[0]).sort(), [
    "durationMs",
    "evidence",
    "id",
    "level",
    "ref",
    "role",
    "verdict",
  ]);
  assert.deepEqual(
    {
      OK: json.summary.OK,
      FAILED: json.summary.FAILED,
      UNSUPPORTED: json.summary.UNSUPPORTED,
      total: json.summary.total,
    },
    { OK: 1, FAILED: 1, UNSUPPORTED: 1, total: 3 },
  );
  const junit = junitReport(report);
  assert.match(
    junit,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="rserpool conformance" tests="3" failures="1"/,
  );
  assert.equal(junit.match(/<testcase /g)?.length, 3);
  assert.equal(junit.match(/<failure message="/g)?.length, 1);
  assert.equal(junit.match(/<skipped message="/g)?.length, 1);
  assert.doesNotMatch(junit.replace(/<[^>]+>/g, ""), /[<>]/, "text is escaped");
  const html = htmlReport(report);
  assert.match(html, /<title>RSerPool conformance report<\/title>/);
  assert.match(html, /asap\/registrar\/unreachable\/max-bad-pe-report/);
});

Deno.test("captures of a case decode back, message for message", () => {
  const records: WireRecord[] = [
    {
      t: 0,
      direction: "sent",
      ppid: 11,
      bytes: encodeAsap({ type: "HandleResolution", poolHandle: new TextEncoder().encode("x") }),
      local: { address: "127.0.0.1", port: 40000 },
      remote: { address: "127.0.0.1", port: 3863 },
    },
    {
      t: 3,
      direction: "received",
      ppid: 11,
      bytes: encodeAsap({
        type: "HandleResolutionResponse",
        poolHandle: new TextEncoder().encode("x"),
        poolElements: [],
        operationError: [{ code: 9, info: new Uint8Array() }],
      }),
      local: { address: "127.0.0.1", port: 40000 },
      remote: { address: "127.0.0.1", port: 3863 },
    },
    {
      t: 5,
      direction: "sent",
      ppid: 12,
      bytes: new Uint8Array([5, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0]),
      local: { address: "::1", port: 40001 },
      remote: { address: "::1", port: 9901 },
    },
  ];
  const messages = [...readCapture(casePcap(records, 1_000_000))];
  assert.equal(messages.length, 3);
  assert.deepEqual(messages.map((m) => decodeMessage(m.ppid, m.bytes).type), [
    "HandleResolution",
    "HandleResolutionResponse",
    "ListRequest",
  ]);
  assert.deepEqual(messages.map((m) => m.source.port), [40000, 3863, 40001]);
  assert.equal(messages[2].source.address, "::1");
});

Deno.test("capture checks: RSPLIB's traffic, and a trace that breaks the rules", () => {
  const rules = (file: string) =>
    Object.fromEntries(
      checkCapture(readFileSync(new URL(file, TESTDATA))).rules.map((r) => [r.id, r]),
    );
  const basic = rules("asap-basic.pcap");
  assert.equal(basic["capture/well-formed"].verdict, "OK");
  assert.equal(basic["asap/registration-answered"].verdict, "OK");
  assert.equal(basic["asap/reregistration-in-time"].verdict, "OK");
  // RSPLIB's Endpoint Keep-Alive carries a PE Identifier the RFC does not define: tolerated, noted.
  assert.equal(basic["capture/canonical"].verdict, "NON-STRICT");
  assert.match(basic["capture/canonical"].violations[0].detail, /PoolElementIdentifier/);
  const enrp = rules("enrp.pcap");
  assert.equal(
    enrp["asap/keepalive-answered"].verdict,
    "OK",
    "answers from another address of the association count",
  );
  assert.equal(enrp["enrp/init-takeover-answered"].verdict, "OK");
  // hsdump (a dumping tool speaking ENRP, not a registrar) ignores Presence probes and List Requests.
  assert.deepEqual(enrp["enrp/presence-answered"].violations.map((v) => v.frame), [371]);
  assert.deepEqual(enrp["enrp/list-answered"].violations.map((v) => v.frame), [373]);

  // Built by hand: a registration never answered although the registrar keeps talking,
  // and an element that re-registers after its registration life.
  const handle = new TextEncoder().encode("p");
  const reg = (life: number) =>
    encodeAsap({
      type: "Registration",
      poolHandle: handle,
      poolElement: {
        identifier: 7,
        homeRegistrarId: 0,
        registrationLife: life,
        userTransport: { type: "TCP", port: 1, transportUse: 0, addresses: ["10.0.0.1"] },
        policy: { type: "RoundRobin" },
      },
    });
  const announce = encodeAsap({
    type: "EndpointKeepAlive",
    home: false,
    registrarId: 1,
    poolHandle: handle,
  });
  const records: WireRecord[] = [
    {
      t: 0,
      direction: "sent",
      ppid: 11,
      bytes: reg(1000),
      local: { address: "10.0.0.1", port: 5000 },
      remote: { address: "10.0.0.2", port: 3863 },
    },
    {
      t: 6000,
      direction: "received",
      ppid: 11,
      bytes: announce,
      local: { address: "10.0.0.1", port: 5000 },
      remote: { address: "10.0.0.2", port: 3863 },
    },
    {
      t: 6001,
      direction: "sent",
      ppid: 11,
      bytes: encodeAsap({ type: "EndpointKeepAliveAck", poolHandle: handle, poolElementId: 7 }),
      local: { address: "10.0.0.1", port: 5000 },
      remote: { address: "10.0.0.2", port: 3863 },
    },
    {
      t: 9000,
      direction: "sent",
      ppid: 11,
      bytes: reg(1000),
      local: { address: "10.0.0.1", port: 5000 },
      remote: { address: "10.0.0.2", port: 3863 },
    },
    {
      t: 20000,
      direction: "received",
      ppid: 11,
      bytes: announce,
      local: { address: "10.0.0.1", port: 5000 },
      remote: { address: "10.0.0.2", port: 3863 },
    },
  ];
  const report = checkCapture(casePcap(records, 0));
  const byId = Object.fromEntries(report.rules.map((r) => [r.id, r]));
  assert.equal(byId["asap/registration-answered"].verdict, "FAILED");
  assert.equal(byId["asap/reregistration-in-time"].verdict, "FAILED");
  assert.match(
    byId["asap/reregistration-in-time"].violations[0].detail,
    /registration life 1000 ms/,
  );
  assert.equal(byId["asap/keepalive-answered"].verdict, "OK");
  assert.equal(
    byId["asap/keepalive-answered"].inconclusive,
    1,
    "the last keep-alive: the capture ends too soon",
  );
  // A file that is no capture at all is the reader's typed error.
  assert.throws(() => checkCapture(writePcap([]).subarray(0, 10)));
});

Deno.test({
  name: "captures of a conformance run look clean in Wireshark (where tshark is installed)",
  ignore: (() => {
    try {
      execFileSync("tshark", ["--version"], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const builtin = await startBuiltinTargets();
    const dir = await Deno.makeTempDir();
    try {
      await runConformance(ALL_CASES, {
        config: config({ asap: builtin.asap, enrp: builtin.enrp }),
        cases: [
          "asap/registrar/registration",
          "asap/registrar/resolution",
          "enrp/registrar/handle-table",
          "enrp/registrar/handle-update",
        ],
        onWire: (c, wire) =>
          writeFileSync(`${dir}/${c.id.replaceAll("/", "_")}.pcapng`, casePcap(wire)),
      });
      let frames = 0;
      for (const entry of Deno.readDirSync(dir)) {
        const out = execFileSync("tshark", [
          "-r",
          `${dir}/${entry.name}`,
          "-T",
          "fields",
          "-e",
          "_ws.col.Protocol",
          "-e",
          "_ws.malformed",
        ], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        for (const line of out.trim().split("\n")) {
          frames++;
          const [protocol, malformed] = line.split("\t");
          assert.match(protocol, /^(ASAP|ENRP)$/, `${entry.name}: ${line}`);
          assert.equal(malformed ?? "", "", `${entry.name}: ${line}`);
        }
      }
      assert.ok(frames > 50, `${frames} frames`);
    } finally {
      await builtin.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
