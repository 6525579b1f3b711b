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
  /** Raw disk image file attached as the primary master IDE disk. */
  disk?: string;
}): Promise<string>;
export const TOYOS_DISK_SECTORS: number;
export function blankDisk(): Uint8Array;
export function blankDiskFile(): string;
export const DISKLOG_SCRIPT: readonly string[];
export function extractScript(output: string, firstCommand: string): string[] | null;
export function commandFinished(output: string, command: string): boolean;
export function runScript(opts: {
  image: string;
  append?: string;
  timeoutMs: number;
  commands: readonly string[];
  disk?: string;
  extraArgs?: string[];
}): Promise<string>;
