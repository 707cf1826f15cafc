/**
 * The `rserpool` program: runs the CLI on the process's arguments.
 *
 * ```sh
 * deno run --allow-read jsr:@rserpool/rserpool/bin decode capture.pcap --pretty
 * ```
 *
 * @module
 */

import process from "node:process";
import { main, processIo } from "./main.ts";

process.exitCode = await main(process.argv.slice(2), processIo());
