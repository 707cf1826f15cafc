// A TypeScript consumer: must type-check against the package's declarations.
import { decodeMessage, type HandleResolution, Ppid, type RSerPoolMessage } from "rserpool";
import { type RunningRegistrar, startRegistrar } from "rserpool/runtime";
import { type MessageTransport, StreamTransport } from "rserpool/transport";
import { Simulation } from "rserpool/sim";

const request: HandleResolution = {
  type: "HandleResolution",
  poolHandle: new TextEncoder().encode("echo"),
  items: 3,
};
const decoded: RSerPoolMessage = decodeMessage(Ppid.Asap, new Uint8Array(4));
const transport: MessageTransport = new StreamTransport({ idleTimeout: 0 });
const registrar: Promise<RunningRegistrar> = startRegistrar({
  asap: "127.0.0.1:0",
});
const sim = new Simulation(1);
// @ts-expect-error: an unknown message type is a type error
const wrong: RSerPoolMessage = { type: "NoSuchMessage" };
export { decoded, registrar, request, sim, transport, wrong };
