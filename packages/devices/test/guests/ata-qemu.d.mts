/** The disk image guests/ata.asm expects (4096 sectors; byte i of sector s = (s * 7 + i) & 0xFF). */
export function ataTestImage(): Uint8Array;
/** Runs a multiboot kernel file on qemu-system-i386 with `disk` (raw image file) as primary master IDE disk; COM1 output. */
export function runQemu(kernel: string, disk: string): Promise<string>;
/** Assembles ata.asm and runs it on QEMU with the test image: the transcript ata.qemu.txt records. */
export function referenceTranscript(): Promise<string>;
