/**
 * `rserpool decode`: prints the ASAP and ENRP messages of a capture, or of
 * hex input, as JSON lines or readable text.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type CapturedMessage, readCapture } from "../capture/mod.ts";
import { DecodeError } from "../errors.ts";
import { decodeMessage } from "../protocol/codec.ts";
import { Ppid } from "../protocol/constants.ts";
import { formatMessage, toJsonValue } from "../protocol/json.ts";
import { parseHex, toHex } from "../wire/hex.ts";
import { type CliIo, UsageError } from "./io.ts";

/** Help text of `rserpool decode`. */
export const DECODE_HELP = `Usage:
  rserpool decode [options] CAPTURE...        messages of pcap/pcapng files
  rserpool decode --ppid PPID [options] HEX...  one message per HEX argument
  rserpool decode --ppid PPID [options] -       one message per line of stdin

Prints one JSON object per ASAP/ENRP message (JSON lines), or a readable
form with --pretty. Captures may carry SCTP, SCTP over UDP (RFC 6951) or
UDP (Server Announces, Presences); Ethernet, Linux cooked, loopback or raw IP.

Options:
  --ppid PPID          protocol of hex input: asap (11), enrp (12), asap-ng,
                       enrp-ng, or a number
  --pretty             readable text instead of JSON lines
  --strict             accept canonical RFC form only; by default messages are
                       decoded leniently (what RFC receivers tolerate, plus
                       RSPLIB's known deviations) and those strict decoding
                       refuses are marked with a "deviation"
  --sctp-udp-port N    UDP port carrying SCTP (default 9899; repeatable)
  --quiet              no summary on stderr
  -h, --help           this help

Exit status: 0 when every message decoded, 1 when some did not, 2 on usage
or file errors. Byte strings print as text when printable, else as 0x-hex.

Examples:
  rserpool decode conformance/testdata/rsplib-3.4.4/asap-basic.pcap --pretty
  rserpool decode --ppid asap 0500001c0009000d536574412e4563686f000000803f000800000001
`;

const PPID_NAMES: Readonly<Record<string, number>> = {
  "asap": Ppid.Asap,
  "enrp": Ppid.Enrp,
  "asap-ng": Ppid.AsapNextGen,
  "enrp-ng": Ppid.EnrpNextGen,
};

function parsePpid(text: string): number {
  const named = PPID_NAMES[text.toLowerCase()];
  if (named !== undefined) return named;
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    const value = Number(text);
    if (value <= 0xffffffff) return value;
  }
  throw new UsageError(`--ppid: expected asap, enrp, asap-ng, enrp-ng or a number, got "${text}"`);
}

function parsePort(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 65535) {
    throw new UsageError(`--sctp-udp-port: expected a port 1-65535, got "${text}"`);
  }
  return value;
}

function endpoint(e: { address: string; port: number }): string {
  return e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** A decoded message and, when only lenient decoding accepted it, why strict decoding did not. */
interface Decoded {
  readonly message: object;
  readonly deviation?: DecodeError;
}

/** Decodes strictly; unless `strict`, falls back to lenient decoding and records the deviation. */
function decodeOne(ppid: number, bytes: Uint8Array, strict: boolean): Decoded {
  try {
    return { message: decodeMessage(ppid, bytes) };
  } catch (e) {
    if (strict || !(e instanceof DecodeError)) throw e;
    return { message: decodeMessage(ppid, bytes, { lenient: true }), deviation: e };
  }
}

function describe(e: DecodeError): { code: string; offset: number; message: string } {
  return { code: e.code, offset: e.offset, message: e.message };
}

interface Printer {
  message(context: Record<string, unknown>, heading: string, decoded: Decoded): void;
  failure(
    context: Record<string, unknown>,
    heading: string,
    error: DecodeError,
    bytes: Uint8Array,
  ): void;
}

function jsonPrinter(io: CliIo): Printer {
  return {
    message(context, _heading, { message, deviation }) {
      const extra = deviation === undefined ? {} : { deviation: describe(deviation) };
      io.out(JSON.stringify({ ...context, message: toJsonValue(message), ...extra }) + "\n");
    },
    failure(context, _heading, error, bytes) {
      io.out(
        JSON.stringify({
          ...context,
          error: describe(error),
          hex: toHex(bytes),
        }) + "\n",
      );
    },
  };
}

function prettyPrinter(io: CliIo): Printer {
  return {
    message(_context, heading, { message, deviation }) {
      const note = deviation === undefined
        ? ""
        : `  (accepted leniently; strict decoding refuses it: ${deviation.code}: ${deviation.message})\n`;
      io.out(`${heading}\n${note}${formatMessage(message).replace(/^/gm, "  ")}\n\n`);
    },
    failure(_context, heading, error, bytes) {
      io.out(`${heading}\n  ${error.code}: ${error.message}\n  ${toHex(bytes)}\n\n`);
    },
  };
}

function capturedContext(file: string, m: CapturedMessage): Record<string, unknown> {
  return {
    file,
    frame: m.frame,
    time: new Date(m.timestamp).toISOString(),
    transport: m.transport,
    source: endpoint(m.source),
    destination: endpoint(m.destination),
    ppid: m.ppid,
    protocol: m.protocol,
  };
}

function capturedHeading(file: string, m: CapturedMessage): string {
  const time = new Date(m.timestamp).toISOString().slice(11, 23);
  return `${file} #${m.frame} ${time} ${m.transport} ${endpoint(m.source)} -> ${
    endpoint(m.destination)
  } ` +
    `${m.protocol.toUpperCase()} (PPID ${m.ppid})${m.reassembled ? " reassembled" : ""}`;
}

/** Runs `rserpool decode`; returns the exit status. */
export async function decodeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "ppid": { type: "string" },
      "pretty": { type: "boolean", default: false },
      "strict": { type: "boolean", default: false },
      "sctp-udp-port": { type: "string", multiple: true },
      "quiet": { type: "boolean", default: false },
      "help": { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.out(DECODE_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("nothing to decode: give capture files, or --ppid and hex messages");
  }
  const printer = values.pretty ? prettyPrinter(io) : jsonPrinter(io);
  const strict = values.strict;
  let decoded = 0;
  let failed = 0;

  if (values.ppid !== undefined) {
    const ppid = parsePpid(values.ppid);
    let inputs = positionals;
    if (inputs.length === 1 && inputs[0] === "-") {
      inputs = (await io.readStdin()).split("\n").map((l) => l.trim()).filter((l) => l !== "");
    }
    for (const [i, text] of inputs.entries()) {
      let bytes: Uint8Array;
      try {
        bytes = parseHex(text);
      } catch (e) {
        throw new UsageError(`input ${i + 1} is not hex: ${(e as Error).message}`);
      }
      const context = { input: i + 1, ppid };
      const heading = `input ${i + 1} (PPID ${ppid}, ${bytes.length} bytes)`;
      try {
        printer.message(context, heading, decodeOne(ppid, bytes, strict));
        decoded++;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        printer.failure(context, heading, e, bytes);
        failed++;
      }
    }
  } else {
    const udpPorts = values["sctp-udp-port"]?.map(parsePort);
    for (const file of positionals) {
      let content: Uint8Array;
      try {
        content = await io.readFile(file);
      } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
      }
      try {
        for (const m of readCapture(content, udpPorts ? { sctpOverUdpPorts: udpPorts } : {})) {
          const context = capturedContext(file, m);
          const heading = capturedHeading(file, m);
          try {
            printer.message(context, heading, decodeOne(m.ppid, m.bytes, strict));
            decoded++;
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
            printer.failure(context, heading, e, m.bytes);
            failed++;
          }
        }
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        throw new UsageError(`${file}: ${e.message}`);
      }
    }
  }
  if (!values.quiet) {
    io.err(`${decoded + failed} message(s): ${decoded} decoded, ${failed} failed\n`);
  }
  return failed > 0 ? 1 : 0;
}
