/**
 * Testing support: the deterministic network simulator for registrars,
 * pool elements and pool users, and a hand driver for one role.
 *
 * ```ts
 * import { Simulation } from "@rserpool/rserpool/sim";
 *
 * const sim = new Simulation(42, { latency: [1, 10], loss: 0.01 });
 * sim.addRegistrar("pr1");
 * sim.addElement("pe1", {
 *   poolHandle: new TextEncoder().encode("EchoPool"),
 *   policy: { type: "RoundRobin" },
 *   registrars: sim.registrarTransports("pr1"),
 * });
 * sim.runFor(5_000);
 * console.log(sim.registrar("pr1").status().elements); // 1
 * ```
 *
 * @module
 */

export { type NetworkOptions, SIM_PORTS, type SimNode, type SimRole, Simulation } from "./sim.ts";
export { type DrivenRole, Driver } from "./driver.ts";
export { FULL_SCALE, runScale, type ScaleOptions, type ScaleResult } from "./scale.ts";
