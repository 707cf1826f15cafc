/**
 * `rserpool element`: serves a pool with a built-in service until Ctrl-C,
 * then deregisters.
 *
 * @module
 */

import net from "node:net";
import { Port } from "../protocol/constants.ts";
import { registerPoolElement } from "../runtime/element.ts";
import { formatEndpoint } from "../runtime/endpoint.ts";
import { daytimeService, echoService } from "../runtime/services.ts";
import { formatIdentifier } from "../runtime/status.ts";
import { RSPLIB_ANNOUNCE_GROUP } from "../transport/udp.ts";
import {
  channelOption,
  COMMON_HELP,
  endpointOption,
  identifierOption,
  integerOption,
  interrupted,
  loggerOption,
  parseCommand,
  POLICY_HELP,
  policyOption,
  profileOption,
  SCTP_HELP,
  SCTP_OPTIONS,
  sctpOption,
  TLS_CLIENT_HELP,
  TLS_CLIENT_OPTIONS,
  tlsOptions,
} from "./common.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Help text of `rserpool element`. */
export const ELEMENT_HELP = `Usage: rserpool element [options]

Runs a Pool Element: serves a pool with a built-in service, registers with a
registrar and stays registered. Ctrl-C deregisters it and stops.

Services:
  echo      returns every message; keeps a count per session and hands it to
            the pool user as an ASAP Cookie, so a session that fails over to
            another element continues the count there (default)
  daytime   sends the time (RFC 867) and closes the session

Options:
  --pool HANDLE          pool handle (default: the service's name)
  --service echo|daytime the service (default echo)
  --registrar ADDR:PORT  a registrar's ASAP endpoint (repeatable; default
                         127.0.0.1:3863 unless --announce is given);
                         sctp://ADDR:PORT over SCTP
  --announce GROUP:PORT  hear registrars' Server Announces on this UDP group
                         (RSPLIB's: 239.0.0.50:3863)
  --listen ADDR:PORT     where pool users connect (default 127.0.0.1, any port);
                         sctp://ADDR:PORT serves over SCTP
  --advertise ADDR       the address registered for pool users (default: the
                         listen address, or for SCTP --sctp-advertise)
  --policy SPEC          selection policy (default rr; see below)
  --id ID                PE identifier, decimal or 0x-hex (default random)
  --data-only            serve a plain TCP stream (Transport Use DATA ONLY):
                         no cookies, any TCP client can talk to it
  --reregister MS        re-registration interval (default 30000)
${TLS_CLIENT_HELP}
${SCTP_HELP}
${COMMON_HELP}

${POLICY_HELP}

Examples:
  rserpool element
  rserpool element --pool echo --policy wrr:3 --registrar 127.0.0.1:3863
  rserpool element --service daytime --listen 0.0.0.0:1313
  rserpool element --listen sctp://127.0.0.1:0 --registrar sctp://127.0.0.1:3863
`;

/** Runs `rserpool element`. */
export async function elementCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseCommand(io, args, {
    pool: { type: "string" },
    service: { type: "string" },
    registrar: { type: "string", multiple: true },
    announce: { type: "string" },
    listen: { type: "string" },
    policy: { type: "string" },
    id: { type: "string" },
    "data-only": { type: "boolean" },
    reregister: { type: "string" },
    ...TLS_CLIENT_OPTIONS,
    advertise: { type: "string" },
    ...SCTP_OPTIONS,
  }, ELEMENT_HELP);
  if (values === undefined) return 0;
  const profile = profileOption(values.profile);
  const log = loggerOption(io, values.log, values.verbose === true);
  const service = values.service ?? "echo";
  if (service !== "echo" && service !== "daytime") {
    throw new UsageError(`--service: expected echo or daytime, got "${service}"`);
  }
  const pool = values.pool ?? service;
  if (pool === "" || new TextEncoder().encode(pool).length > 32) {
    throw new UsageError("--pool: a pool handle has 1 to 32 bytes");
  }
  const asapPort = profile === "nextgen" ? Port.AsapNextGen : Port.Asap;
  const registrars = (values.registrar ?? []).map((r) =>
    endpointOption("registrar", r, { host: "127.0.0.1", port: asapPort })
  );
  const announce = values.announce === undefined
    ? undefined
    : channelOption("announce", values.announce, RSPLIB_ANNOUNCE_GROUP, undefined, undefined);
  const dataOnly = values["data-only"] === true;
  const listen = values.listen === undefined
    ? undefined
    : endpointOption("listen", values.listen, { host: "127.0.0.1", port: 0 });
  const policy = values.policy === undefined ? undefined : policyOption(values.policy);
  const interval = values.reregister === undefined
    ? undefined
    : integerOption("reregister", values.reregister, 100, 3_600_000);
  const tls = await tlsOptions(io, values, "client");
  const advertise = values.advertise;
  if (advertise !== undefined && !net.isIP(advertise)) {
    throw new UsageError(`--advertise: "${advertise}" is not an IP address`);
  }
  const sctp = await sctpOption(
    values,
    listen?.transport === "SCTP" || registrars.some((r) => r.transport === "SCTP"),
  );
  const element = await registerPoolElement({
    poolHandle: pool,
    policy,
    registrars: registrars.length > 0 || announce !== undefined ? registrars : undefined,
    announce,
    listen,
    advertise,
    transports: sctp === undefined ? undefined : { SCTP: sctp },
    controlChannel: !dataOnly,
    identifier: values.id === undefined ? undefined : identifierOption("id", values.id, profile),
    profile,
    reregistrationInterval: interval,
    tls,
    log,
    serve: service === "echo" ? echoService({ cookies: !dataOnly, log }) : daytimeService(),
  }).catch((e: Error) => {
    log.error(e.message);
    return undefined;
  });
  if (element === undefined) {
    await sctp?.close();
    return 1;
  }
  log.info("serving", {
    pool,
    service,
    element: formatIdentifier(element.identifier),
    at: formatEndpoint({ ...element.address, transport: listen?.transport }),
  });
  const signal = await interrupted(io);
  log.info("stopping: deregistering first", { signal });
  await element.close();
  await sctp?.close();
  return 0;
}
