/** Types for run-qemu.mjs (plain Node so it runs without a build step). */
export function serialLines(output: string): string[];
export function extractSelftest(output: string): string[] | null;
export function checkHeartbeats(output: string): number;
export function runOnce(opts: {
  image: string;
  append: string;
  timeoutMs: number;
  waitTicks?: number;
  extraArgs?: string[];
  command?: string;
}): Promise<string>;
