import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The toy OS image (examples/toyos): ring 3 workers that keep RAM busy and check for lost updates. */
export const TOYOS = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../examples/toyos/toyos.bin', import.meta.url))));

/** Heartbeat numbers in toyos output, in order. */
export function heartbeats(output: string): number[] {
  return [...output.matchAll(/tick (\d+)\r\n/g)].map((m) => Number(m[1]));
}

/** True if the heartbeats are 1, 2, 3, … without a gap or a repeat. */
export function heartbeatsContinuous(output: string): boolean {
  return heartbeats(output).every((n, i) => n === i + 1);
}
