import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { type CliIo, main } from "./main.ts";

const CAPTURES = new URL("../../conformance/testdata/rsplib-3.4.4/", import.meta.url);

async function run(
  args: string[],
  stdin = "",
): Promise<{ status: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    readFile: async (path) => new Uint8Array(await readFile(path)),
    readStdin: () => Promise.resolve(stdin),
  };
  const status = await main(args, io);
  return { status, out, err };
}

const basic = new URL("asap-basic.pcap", CAPTURES).pathname;

Deno.test("decode prints every message of a capture as a JSON line", async () => {
  const { status, out, err } = await run(["decode", basic]);
  assert.equal(status, 0);
  const lines = out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 186);
  assert.deepEqual(lines[0], {
    file: basic,
    frame: 8,
    time: lines[0].time,
    transport: "sctp",
    source: "10.77.0.1:41659",
    destination: "10.77.0.1:3863",
    ppid: 11,
    protocol: "asap",
    message: {
      type: "Registration",
      poolHandle: "SetA.Echo",
      poolElement: {
        identifier: 0xdf9a113e,
        homeRegistrarId: 0,
        registrationLife: 24000,
        userTransport: { type: "SCTP", port: 20001, transportUse: 1, addresses: ["10.77.0.1"] },
        policy: { type: "RoundRobin" },
      },
    },
  });
  assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT/);
  // RSPLIB's Keep-Alives decode, marked with the deviation strict decoding refuses.
  const keepAlives = lines.filter((l) => l.message.type === "EndpointKeepAlive");
  assert.equal(keepAlives.length, 18);
  for (const k of keepAlives) assert.equal(k.deviation.code, "unexpected-parameter");
  assert.equal(err, "186 message(s): 186 decoded, 0 failed\n");
});

Deno.test("decode --strict fails on RSPLIB's deviations, with exit status 1", async () => {
  const { status, out, err } = await run(["decode", "--strict", basic]);
  assert.equal(status, 1);
  assert.equal(
    out.trim().split("\n").filter((l) => JSON.parse(l).error?.code === "unexpected-parameter")
      .length,
    18,
  );
  assert.equal(err, "186 message(s): 168 decoded, 18 failed\n");
});

Deno.test("decode --pretty prints readable text", async () => {
  const { status, out } = await run(["decode", "--pretty", "--quiet", basic]);
  assert.equal(status, 0);
  assert.match(
    out,
    /#8 \S+ sctp 10\.77\.0\.1:41659 -> 10\.77\.0\.1:3863 ASAP \(PPID 11\)\n {2}Registration\n/,
  );
  assert.match(out, /policy: LeastUsed\n\s+load: 0x00000000 \(0\.00 %\)/);
});

Deno.test("decode hex with --ppid, from arguments and from stdin", async () => {
  const hr = "0500001c0009000d536574412e4563686f000000803f000800000001";
  const one = await run(["decode", "--ppid", "asap", "--quiet", hr]);
  assert.equal(one.status, 0);
  assert.deepEqual(JSON.parse(one.out), {
    input: 1,
    ppid: 11,
    message: { type: "HandleResolution", poolHandle: "SetA.Echo", items: 1 },
  });
  const stdin = await run(["decode", "--ppid", "11", "--quiet", "-"], `${hr}\n\n0500\n`);
  assert.equal(stdin.status, 1);
  const [first, second] = stdin.out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(first.message.type, "HandleResolution");
  assert.deepEqual(second.error, {
    code: "truncated",
    offset: 2,
    message: "input shorter than a message header (at byte 2)",
  });
});

Deno.test("usage errors exit with status 2 and say what is wrong", async () => {
  const cases: [string[], RegExp][] = [
    [["decode"], /nothing to decode/],
    [["decode", "--ppid", "sctp", "00"], /--ppid: expected asap/],
    [["decode", "--ppid", "asap", "zz"], /input 1 is not hex/],
    [["decode", "/nonexistent/file.pcap"], /cannot read \/nonexistent\/file\.pcap/],
    [["decode", "--bogus", basic], /Unknown option '--bogus'/],
    [["decode", "--sctp-udp-port", "70000", basic], /--sctp-udp-port: expected a port/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of cases) {
    const { status, err } = await run(args);
    assert.equal(status, 2, args.join(" "));
    assert.match(err, message);
  }
  const notACapture = await run(["decode", new URL("messages.jsonl", CAPTURES).pathname]);
  assert.equal(notACapture.status, 2);
  assert.match(notACapture.err, /not a pcap or pcapng file/);
});

Deno.test("help", async () => {
  const top = await run(["--help"]);
  assert.equal(top.status, 0);
  for (const command of ["registrar", "element", "user", "status", "conformance", "decode"]) {
    assert.match(top.out, new RegExp(`\n {2}${command} +\\S`), command);
    const help = await run([command, "--help"]);
    assert.equal(help.status, 0, command);
    assert.match(help.out, new RegExp(`^Usage:\\s+rserpool ${command}`), command);
    assert.equal(help.err, "", command);
  }
  const short = await run(["registrar", "-h"]);
  assert.match(short.out, /--asap ADDR:PORT/);
});
