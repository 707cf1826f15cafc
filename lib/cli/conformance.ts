/**
 * `rserpool conformance`: runs the conformance suite against an RSerPool
 * implementation (or the built-in one), or checks a recorded capture.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBuiltinTargets } from "../../conformance/builtin.ts";
import { ALL_CASES } from "../../conformance/cases/mod.ts";
import type { ElementDriver, RunConfig, UserDriver } from "../../conformance/context.ts";
import { casePcap } from "../../conformance/pcap.ts";
import {
  casesMarkdown,
  htmlReport,
  jsonReport,
  junitReport,
  summaryTable,
} from "../../conformance/report.ts";
import { matches, runConformance } from "../../conformance/runner.ts";
import { checkCapture, traceSummary } from "../../conformance/trace.ts";
import {
  ALL_FEATURES,
  type Feature,
  RFC_POLICY_FEATURES,
  RFC_TARGET_TIMERS,
  type Role,
  RSPLIB_TARGET_TIMERS,
  type TargetTimers,
} from "../../conformance/types.ts";
import { Port } from "../protocol/constants.ts";
import type { PoolMemberSelectionPolicy } from "../protocol/types.ts";
import { type Endpoint, formatEndpoint } from "../runtime/endpoint.ts";
import { RSPLIB_ANNOUNCE_GROUP, type UdpChannelSettings } from "../transport/udp.ts";
import {
  channelOption,
  endpointOption,
  integerOption,
  profileOption,
  SCTP_HELP,
  SCTP_OPTIONS,
  sctpOption,
} from "./common.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Help text of `rserpool conformance`. */
export const CONFORMANCE_HELP = `Usage: rserpool conformance [options]
       rserpool conformance --check-capture FILE [--json FILE]
       rserpool conformance --list [--markdown]

Tests an RSerPool implementation against RFC 5351-5356 and the drafts this
library implements: its registrar over ASAP (the suite plays pool elements and
users) and over ENRP (the suite plays peer registrars), its pool elements and
users (the suite plays their registrar and elements), and its robustness.
Every case gets a verdict with evidence: OK, NON-STRICT (a SHOULD not met),
UNSUPPORTED (a feature the target does not claim), FAILED. Without --target
the built-in implementation is tested (an end-to-end test of this library).

Target:
  --target URL          the registrar's ASAP endpoint, tcp://host:port or
                        sctp://host:port (SCTP in TypeScript over UDP, RFC 6951:
                        kernel SCTP with net.sctp.udp_port/encap_port set speaks it)
  --enrp URL            its ENRP endpoint, tcp:// or sctp:// (for ENRP cases)
  --features LIST       optional features the target implements, comma-separated:
                        hropt, takeover-suggestion, nextgen-ids, home-keepalive,
                        control-channel, controlled, announce, and the selection policy
                        families policy-round-robin, policy-random,
                        policy-priority, policy-least-used (all four:
                        "policies"), policy-rsplib, policy-dpf,
                        policy-dpf-priority; "all"; default none
  --profile rfc|nextgen wire profile (nextgen: 64-bit identifiers; needs nextgen-ids)
  --timers rfc|rsplib   the target's timer defaults (default rfc; RSPLIB's are shorter)
  --timer NAME=VALUE    one of the target's timers (ms) and thresholds:
                        keepAliveInterval, keepAliveTimeout, peerHeartbeatCycle,
                        maxTimeLastHeard, maxTimeNoResponse, takeoverExpiry,
                        mentorHuntTimeout, maxBadPeReports,
                        handleTablePage, handleResolutionItems, maxIncrement
                        (0: each policy's default), registrationTimeout and
                        maxRegistrationAttempts (elements), connectTimeout
                        (elements and users), requestTimeout,
                        maxRequestRetransmit and staleCache (users), slack
  --listen HOST         address of the suite's own listeners (default 127.0.0.1;
                        over SCTP: --sctp-advertise)
  --announce GROUP:PORT the UDP channel the target registrar sends its Server
                        Announces on (with --features announce)
  --spawn-element CMD   start a pool element under test with this shell command;
                        {registrars} becomes the suite's registrar endpoints
                        (comma-separated host:port), {pool} the pool handle,
                        {policy} a policy as rserpool element --policy takes it,
                        {announce} the suite's GROUP:PORT for Server Announces
  --spawn-user CMD      start a pool user under test; {registrar} (or
                        {registrars}), {pool}; lines written to its standard
                        input are its application data

SCTP (for sctp:// targets):
${SCTP_HELP}

Selection and output:
  --cases GLOB          only these cases (repeatable; * within a segment, **
                        across; a plain prefix selects everything below it)
  --role ROLE           only this role (repeatable): registrar-asap,
                        registrar-enrp, element, user, robustness
  --strict              SHOULD violations fail (always so for the built-in target)
  --json FILE           write the report as JSON
  --junit FILE          write JUnit XML (for CI systems)
  --html FILE           write a self-contained HTML report
  --pcap DIR            write each case's messages as DIR/CASE.pcapng
  --list                list the cases (--markdown: as conformance/CASES.md)
  --check-capture FILE  check a recorded pcap/pcapng instead: well-formedness
                        and the protocol rules a trace can show
  -h, --help            this help

Exit status: 0 when no case FAILED, 1 otherwise, 2 on usage errors.

Examples:
  rserpool conformance
  rserpool conformance --target tcp://127.0.0.1:3863 --enrp tcp://127.0.0.1:9901 \\
    --timers rsplib --features hropt --json report.json --junit junit.xml
  rserpool conformance --check-capture conformance/testdata/rsplib-3.4.4/enrp.pcap
`;

const ROLES: readonly Role[] = [
  "registrar-asap",
  "registrar-enrp",
  "element",
  "user",
  "robustness",
];

function targetUrl(name: string, url: string, defaultPort: number): Endpoint {
  const m = /^(tcp|sctp):\/\/(.+)$/.exec(url);
  if (m === null) {
    throw new UsageError(`--${name}: expected tcp://host:port or sctp://host:port, got "${url}"`);
  }
  const e = endpointOption(name, m[2], { port: defaultPort });
  return m[1] === "sctp" ? { ...e, transport: "SCTP" } : e;
}

/** A policy as `rserpool element --policy` takes it (`{policy}` in --spawn-element). */
export function policySpec(policy: PoolMemberSelectionPolicy): string {
  const load = (v: number) => String(v / 0xffffffff);
  switch (policy.type) {
    case "RoundRobin":
      return "rr";
    case "Random":
      return "rand";
    case "WeightedRoundRobin":
      return `wrr:${policy.weight}`;
    case "WeightedRandom":
      return `wrand:${policy.weight}`;
    case "Priority":
      return `prio:${policy.priority}`;
    case "LeastUsed":
      return `lu:${load(policy.load)}`;
    case "RandomizedLeastUsed":
      return `rlu:${load(policy.load)}`;
    case "LeastUsedDegradation":
      return `lud:${load(policy.load)}:${load(policy.loadDegradation)}`;
    case "PriorityLeastUsed":
      return `plu:${load(policy.load)}:${load(policy.loadDegradation)}`;
    default:
      throw new UsageError(`--spawn-element: no --policy spelling for ${policy.type}`);
  }
}

function shellDriver(template: string, io: CliIo): ElementDriver & UserDriver {
  const run = (command: string) => {
    const child = spawn("sh", ["-c", command], { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d) => err = (err + d).slice(-4000));
    child.stdin!.on("error", () => {});
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    return {
      send: (line: string) => void child.stdin!.write(line + "\n"),
      stop: async () => {
        child.kill("SIGINT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        child.kill("SIGKILL");
      },
      kill: async () => {
        child.kill("SIGKILL");
        await exited;
      },
      err: () => err,
    };
  };
  return {
    choosesPolicy: template.includes("{policy}"),
    severalRegistrars: template.includes("{registrars}"),
    hearsAnnounces: template.includes("{announce}"),
    start(
      options: {
        registrars?: Endpoint[];
        registrar?: Endpoint;
        pool: string;
        policy?: PoolMemberSelectionPolicy;
        announce?: UdpChannelSettings;
      },
    ) {
      const command = template
        .replaceAll("{registrars}", (options.registrars ?? []).map(formatEndpoint).join(","))
        .replaceAll(
          "{registrar}",
          options.registrar === undefined ? "" : formatEndpoint(options.registrar),
        )
        .replaceAll("{pool}", options.pool)
        .replaceAll(
          "{announce}",
          options.announce === undefined
            ? ""
            : formatEndpoint({ address: options.announce.group, port: options.announce.port }),
        )
        .replaceAll("{policy}", policySpec(options.policy ?? { type: "RoundRobin" }));
      io.err(`conformance: starting ${command}\n`);
      return Promise.resolve(run(command));
    },
  } as ElementDriver & UserDriver;
}

/** Runs `rserpool conformance`. */
export async function conformanceCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      target: { type: "string" },
      enrp: { type: "string" },
      features: { type: "string" },
      profile: { type: "string" },
      timers: { type: "string" },
      timer: { type: "string", multiple: true },
      listen: { type: "string" },
      announce: { type: "string" },
      "spawn-element": { type: "string" },
      "spawn-user": { type: "string" },
      cases: { type: "string", multiple: true },
      role: { type: "string", multiple: true },
      strict: { type: "boolean" },
      json: { type: "string" },
      junit: { type: "string" },
      html: { type: "string" },
      pcap: { type: "string" },
      list: { type: "boolean" },
      markdown: { type: "boolean" },
      "check-capture": { type: "string" },
      ...SCTP_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    io.out(CONFORMANCE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const roles = (values.role ?? []).map((r) => {
    if (!ROLES.includes(r as Role)) {
      throw new UsageError(`--role: expected one of ${ROLES.join(", ")}`);
    }
    return r as Role;
  });
  const selected = ALL_CASES.filter((c) =>
    (values.cases === undefined || values.cases.some((p) => matches(c.id, p))) &&
    (roles.length === 0 || roles.includes(c.role))
  );
  if (values.list) {
    if (values.markdown) io.out(casesMarkdown(selected));
    else for (const c of selected) io.out(`${c.id.padEnd(58)} ${c.level.padEnd(6)} ${c.ref}\n`);
    return 0;
  }
  if (values["check-capture"] !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await io.readFile(values["check-capture"]);
    } catch (e) {
      throw new UsageError(
        `--check-capture: cannot read "${values["check-capture"]}": ${(e as Error).message}`,
      );
    }
    const report = checkCapture(bytes);
    io.out(traceSummary(report));
    if (values.json !== undefined) {
      writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
    }
    return report.rules.some((r) => r.verdict === "FAILED") ? 1 : 0;
  }

  const profile = profileOption(values.profile);
  const features = new Set<Feature>();
  for (const f of (values.features ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    if (f === "all") ALL_FEATURES.forEach((x) => features.add(x));
    else if (f === "policies") RFC_POLICY_FEATURES.forEach((x) => features.add(x));
    else if ((ALL_FEATURES as readonly string[]).includes(f)) features.add(f as Feature);
    else {throw new UsageError(
        `--features: unknown feature "${f}" (known: ${ALL_FEATURES.join(", ")})`,
      );}
  }
  if (profile === "nextgen" && values.target !== undefined && !features.has("nextgen-ids")) {
    throw new UsageError("--profile nextgen needs a target that claims nextgen-ids (--features)");
  }
  let timers: TargetTimers = values.timers === undefined || values.timers === "rfc"
    ? RFC_TARGET_TIMERS
    : values.timers === "rsplib"
    ? RSPLIB_TARGET_TIMERS
    : (() => {
      throw new UsageError(`--timers: expected rfc or rsplib, got "${values.timers}"`);
    })();
  for (const t of values.timer ?? []) {
    const [name, value] = t.split("=");
    if (!(name in RFC_TARGET_TIMERS) || value === undefined) {
      throw new UsageError(
        `--timer: expected NAME=MS with NAME one of ${Object.keys(RFC_TARGET_TIMERS).join(", ")}`,
      );
    }
    timers = { ...timers, [name]: integerOption("timer", value, 0, 86_400_000) };
  }
  const listenHost = values.listen ?? "127.0.0.1";

  let config: RunConfig;
  let stop: (() => Promise<void>) | undefined;
  let target: { asap?: string; enrp?: string; builtin: boolean };
  if (values.target === undefined) {
    if (values.enrp !== undefined) throw new UsageError("--enrp needs --target");
    const builtin = await startBuiltinTargets(profile);
    stop = builtin.stop;
    config = {
      asap: builtin.asap,
      enrp: builtin.enrp,
      profile,
      timers: builtin.timers,
      features: new Set(
        builtin.features.filter((f) => f !== "nextgen-ids" || profile === "nextgen"),
      ),
      // The built-in implementation claims every SHOULD as well: a shortfall is a failure.
      strict: true,
      listenHost,
      element: builtin.element,
      user: builtin.user,
      registrar: builtin.registrar,
      announce: builtin.announce,
    };
    target = {
      asap: formatEndpoint(builtin.asap),
      enrp: formatEndpoint(builtin.enrp),
      builtin: true,
    };
    io.err(
      `conformance: testing the built-in implementation (registrar at ${
        formatEndpoint(builtin.asap)
      })\n`,
    );
  } else {
    const nextgen = profile === "nextgen";
    const asap = targetUrl("target", values.target, nextgen ? Port.AsapNextGen : Port.Asap);
    const enrp = values.enrp === undefined
      ? undefined
      : targetUrl("enrp", values.enrp, nextgen ? Port.EnrpNextGen : Port.Enrp);
    if (values["spawn-element"] !== undefined || values["spawn-user"] !== undefined) {
      features.add("controlled");
    }
    const sctp = await sctpOption(
      values,
      asap.transport === "SCTP" || enrp?.transport === "SCTP",
    );
    if (sctp !== undefined) stop = () => sctp.close();
    config = {
      sctp,
      asap,
      enrp,
      profile,
      timers,
      features,
      strict: values.strict === true,
      listenHost,
      element: values["spawn-element"] === undefined
        ? undefined
        : shellDriver(values["spawn-element"], io),
      user: values["spawn-user"] === undefined ? undefined : shellDriver(values["spawn-user"], io),
      announce: values.announce === undefined
        ? undefined
        : channelOption("announce", values.announce, RSPLIB_ANNOUNCE_GROUP, 1, undefined),
    };
    target = { asap: values.target, enrp: values.enrp, builtin: false };
  }
  if (values.pcap !== undefined) mkdirSync(values.pcap, { recursive: true });
  const started = Date.now();
  let report;
  try {
    report = await runConformance(ALL_CASES, {
      config,
      cases: values.cases,
      roles,
      target,
      onResult: (r, i, n) => {
        io.out(
          `[${String(i + 1).padStart(String(n).length)}/${n}] ${
            r.verdict.padEnd(11)
          } ${r.id} (${r.durationMs} ms)${
            r.verdict === "OK" ? "" : `\n        ${r.reason ?? ""}`
          }\n`,
        );
      },
      onWire: values.pcap === undefined ? undefined : (c, wire) => {
        if (wire.length === 0) return;
        writeFileSync(
          join(values.pcap!, `${c.id.replaceAll("/", "_")}.pcapng`),
          casePcap(wire, started),
        );
      },
    });
  } finally {
    await stop?.();
  }
  io.out("\n" + summaryTable(report));
  if (values.json !== undefined) writeFileSync(values.json, jsonReport(report));
  if (values.junit !== undefined) writeFileSync(values.junit, junitReport(report));
  if (values.html !== undefined) writeFileSync(values.html, htmlReport(report));
  return report.summary.FAILED > 0 ? 1 : 0;
}
