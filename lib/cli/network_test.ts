import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { MAX_POLICY_VALUE } from "../policy/entry.ts";
import { policyOption } from "./common.ts";
import { type CliIo, main } from "./main.ts";

/** A CLI run in this process: its output so far, a way to stop it, and its exit status. */
function start(args: string[], input: string[] = []) {
  let out = "";
  let err = "";
  let interrupt: (signal: string) => void = () => {};
  const interrupted = new Promise<string>((r) => interrupt = r);
  let feed: (line: string | undefined) => void = () => {};
  const lines: (string | undefined)[] = [...input];
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    readFile: async (path) => new Uint8Array(await readFile(path)),
    readStdin: () => Promise.resolve(input.join("\n")),
    stdinLines: async function* () {
      for (;;) {
        if (lines.length === 0) await new Promise<void>((r) => feed = (l) => (lines.push(l), r()));
        const line = lines.shift();
        if (line === undefined) return;
        yield line;
      }
    },
    interrupted: () => interrupted,
  };
  const status = main(args, io);
  return {
    get out() {
      return out;
    },
    get err() {
      return err;
    },
    status,
    interrupt: () => interrupt("SIGINT"),
    send: (line: string | undefined) => feed(line),
    /** Waits until stderr matches; returns the match. */
    async log(pattern: RegExp, ms = 5000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = err.match(pattern);
        if (m !== null) return m;
        if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${err}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

async function run(args: string[]) {
  const r = start(args);
  return { status: await r.status, out: r.out, err: r.err };
}

Deno.test("network commands: bad options exit 2 with a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [["registrar", "--asap", "127.0.0.1:99999"], /--asap: .*port must be a number 0…65535/],
    [["registrar", "--peer", "not an address"], /--peer: .*not an address/],
    [["registrar", "--profile", "v3"], /--profile: expected rfc or nextgen/],
    [["registrar", "--timers", "fast"], /--timers: expected rfc or rsplib/],
    [["registrar", "--timer", "bogus=5"], /--timer: expected NAME=MS/],
    [["registrar", "--timer", "keepAliveInterval=0"], /--timer: expected an integer 1…/],
    [["registrar", "--tls-cert", "x.pem"], /--tls-cert and --tls-key go together/],
    [["registrar", "--tls-client-auth"], /--tls-client-auth needs --tls-ca/],
    [["registrar", "--tls-cert", "/nope.pem", "--tls-key", "/nope.key"], /--tls-cert: cannot read/],
    [["registrar", "--authorize", "/nonexistent.json"], /--authorize: cannot read/],
    [["registrar", "--id", "0"], /--id: must be non-zero/],
    [["registrar", "--id", "0x100000000"], /fit in 32 bits/],
    [["registrar", "--multicast-ttl", "300"], /--multicast-ttl: expected an integer 1…255/],
    [["registrar", "--log", "xml"], /--log: expected text or json/],
    [["registrar", "stray"], /unexpected argument "stray"/],
    [["element", "--service", "chargen"], /--service: expected echo or daytime/],
    [["element", "--policy", "wrr"], /--policy wrr: WeightedRoundRobin takes 1 value/],
    [["element", "--policy", "lu:150%"], /a load must be 0…1 or 0%…100%/],
    [["element", "--policy", "fastest"], /unknown policy "fastest"/],
    [["element", "--pool", "x".repeat(33)], /--pool: a pool handle has 1 to 32 bytes/],
    [["element", "--reregister", "10"], /--reregister: expected an integer 100…/],
    [["user", "--timeout", "soon"], /--timeout: expected an integer/],
    [["user", "--resolve", "--once"], /exclude each other/],
    [["status", "--limit=-1"], /--limit: expected an integer 0…/],
    [["status", "a:1", "b:2"], /give one status endpoint/],
  ];
  for (const [args, message] of cases) {
    const { status, err } = await run(args);
    assert.equal(status, 2, `${args.join(" ")}: ${err}`);
    assert.match(err, message, args.join(" "));
    assert.match(err, new RegExp(`Run "rserpool ${args[0]} --help"`));
  }
});

Deno.test("network commands: an authorization file is checked before starting", async () => {
  const dir = await Deno.makeTempDir();
  const bad = [
    [`{"rules": "all"}`, /expected \{"rules": \[\.\.\.\]\}/],
    [`{"rules": [{"pools": 5}]}`, /rule 1: "pools" must be "\*" or a list/],
    [`{"rules": [{"pools": "*", "addresses": ["10.0.0.0/40"]}]}`, /prefix length must be 0…32/],
    [`{"rules": [], "ownAddressOnly": "yes"}`, /"ownAddressOnly" must be true or false/],
    [`{rules`, /cannot read/],
  ] as const;
  for (const [text, message] of bad) {
    const file = `${dir}/rules.json`;
    await Deno.writeTextFile(file, text);
    const { status, err } = await run(["registrar", "--authorize", file]);
    assert.equal(status, 2, text);
    assert.match(err, message, text);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("policy specs", () => {
  assert.deepEqual(policyOption("rr"), { type: "RoundRobin" });
  assert.deepEqual(policyOption("WRR:3"), { type: "WeightedRoundRobin", weight: 3 });
  assert.deepEqual(policyOption("prio:7"), { type: "Priority", priority: 7 });
  assert.deepEqual(policyOption("lu:30%"), {
    type: "LeastUsed",
    load: Math.round(0.3 * MAX_POLICY_VALUE),
  });
  assert.deepEqual(policyOption("lud:1:0"), {
    type: "LeastUsedDegradation",
    load: MAX_POLICY_VALUE,
    loadDegradation: 0,
  });
  assert.deepEqual(policyOption("rlu:0.5"), {
    type: "RandomizedLeastUsed",
    load: Math.round(0.5 * MAX_POLICY_VALUE),
  });
});

Deno.test("registrar, elements, user and status commands work together; Ctrl-C deregisters", async () => {
  const registrar = start([
    "registrar",
    "--asap",
    "127.0.0.1:0",
    "--enrp",
    "127.0.0.1:0",
    "--status",
    "127.0.0.1:0",
  ]);
  const [, asapPort] = await registrar.log(/registrar started .*asap=127\.0\.0\.1:(\d+)/);
  const [, statusPort] = await registrar.log(/status=http:\/\/127\.0\.0\.1:(\d+)\/status/);
  const at = `127.0.0.1:${asapPort}`;
  const elements = [
    start(["element", "--registrar", at, "--id", "0x0a"]),
    start(["element", "--registrar", at, "--id", "0x0b", "--log", "json"]),
  ];
  await elements[0].log(/registered pool=echo element=0x0000000a/);
  const json = await elements[1].log(/\{[^\n]*"msg":"registered"[^\n]*\}/);
  assert.deepEqual(
    (({ level, msg, pool, element }) => ({ level, msg, pool, element }))(JSON.parse(json[0])),
    { level: "info", msg: "registered", pool: "echo", element: "0x0000000b" },
  );

  const status = await run(["status", `127.0.0.1:${statusPort}`, "--pools"]);
  assert.equal(status.status, 0, status.err);
  assert.match(status.out, /handlespace: +1 pool\(s\), 2 element\(s\), 2 owned here/);
  assert.match(status.out, /pool "echo" \(RoundRobin, 2 element\(s\)\)/);
  assert.match(status.out, /0x0000000a +TCP 127\.0\.0\.1:\d+ +home 0x[0-9a-f]{8} \(here\)/);
  const asJson = await run(["status", `127.0.0.1:${statusPort}`, "--json"]);
  assert.equal(JSON.parse(asJson.out).handlespace.elements, 2);

  const resolved = await run(["user", "--registrar", at, "--resolve"]);
  assert.equal(resolved.status, 0, resolved.err);
  assert.deepEqual(
    resolved.out.trim().split("\n").map((l) => JSON.parse(l).identifier).sort(),
    ["0x0000000a", "0x0000000b"],
  );

  const user = start(["user", "--registrar", at], ["alpha", "beta"]);
  await user.log(/session up session=session:0 element=(0x[0-9a-f]+)/);
  const [, first] = await user.log(/session up .*element=(0x[0-9a-f]+)/);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(user.out, "alpha\nbeta\n");
  // Ctrl-C on the element in use: it deregisters, the user moves on with the cookie.
  // One element logs text (element=0x…), the other JSON ("element":"0x…").
  const victim = elements.find((e) =>
    e.err.includes(`element=${first}`) || e.err.includes(`"element":"${first}"`)
  )!;
  const survivor = elements.find((e) => e !== victim)!;
  victim.interrupt();
  assert.equal(await victim.status, 0);
  assert.match(victim.err, /deregistered/);
  await registrar.log(new RegExp(`element removed pool=echo element=${first} reason=deregistered`));
  user.send("gamma");
  await user.log(/failed over/);
  user.send(undefined); // end of input
  assert.equal(await user.status, 0, user.err);
  assert.equal(user.out, "alpha\nbeta\ngamma\n");
  await survivor.log(/took over an echo session.*echoedBefore"?[=:]2/);

  survivor.interrupt();
  registrar.interrupt();
  assert.equal(await survivor.status, 0);
  assert.equal(await registrar.status, 0);
  assert.match(registrar.err, /stopping signal=SIGINT/);
});

Deno.test("user and status commands report unreachable registrars with exit 1", async () => {
  const user = await run(["user", "--registrar", "127.0.0.1:1", "--timeout", "300"]);
  assert.equal(user.status, 1);
  assert.match(user.err, /did not complete in 300 ms/);
  const status = await run(["status", "127.0.0.1:1", "--timeout", "300"]);
  assert.equal(status.status, 1);
  assert.match(status.err, /cannot reach http:\/\/127\.0\.0\.1:1/);
});
