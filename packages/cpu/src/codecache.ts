/**
 * Decoded-instruction cache keyed by physical code page (DESIGN §3).
 *
 * Each page that code ran from holds the decoded records of its instructions. A dirty log on the
 * PhysicalMemory ("code") calls back on the first write to a page after it was armed; the page's
 * records are then dropped at once, so self-modifying code takes effect at the next instruction.
 * A page is re-armed when records are cached on it again.
 *
 * Records depend on the code segment's default size (CS.D), so the key within a page is the page
 * offset plus 0x1000 for 32-bit code. Only RAM and ROM pages are cached; code running from MMIO
 * or unmapped space is decoded every time.
 */
import { PageKind, type DirtyLog, type PhysicalMemory } from '@ferry86/mmu';
import type { Insn } from './insn.ts';

export class CodePage {
  readonly insns = new Map<number, Insn>();
  /**
   * Checked pages are not write-trapped: each instruction compares its bytes with RAM before it
   * runs (see Cpu.lookup). Pages that mix code with data the guest keeps writing end up here,
   * because trapping would drop and re-decode the page on every data write.
   */
  constructor(
    readonly page: number,
    readonly checked: boolean,
    /** Instruction count when the page was created (checked pages are re-evaluated later). */
    readonly createdAt: number,
  ) {}
}

/** A page whose records were dropped this many times in quick succession becomes checked. */
const CHECKED_AFTER_DROPS = 4;
/** Drops further apart than this (in retired instructions) do not count as "quick". */
const DROP_WINDOW = 10_000_000;
/** A checked page goes back to write trapping after this many instructions (it may return). */
const RECHECK_AFTER = 200_000_000;

export class CodeCache {
  private readonly ramPages: (CodePage | null)[];
  private readonly romPages = new Map<number, CodePage>();
  private readonly dropCounts: Uint8Array;
  private readonly lastDrop: Float64Array;
  /** Retired-instruction clock (the CPU's instruction count). */
  now: () => number = () => 0;
  private readonly log: DirtyLog;
  /** Called after a page's records were dropped (the CPU leaves its current block). */
  onInvalidate: () => void = () => {};
  /** Statistics for benchmarks and tests. */
  invalidations = 0;
  decoded = 0;

  constructor(private readonly phys: PhysicalMemory) {
    this.ramPages = new Array<CodePage | null>(phys.pageCount).fill(null);
    this.dropCounts = new Uint8Array(phys.pageCount);
    this.lastDrop = new Float64Array(phys.pageCount);
    this.log = phys.createDirtyLog('code', { onFirstWrite: (page) => this.dropPage(page) });
  }

  /** The page object for physical page `page`, created (and armed) on first use; null if uncacheable. */
  pageFor(page: number): CodePage | null {
    if (page < this.ramPages.length) {
      const cp = this.ramPages[page]!;
      if (cp !== null) {
        if (!cp.checked || this.now() - cp.createdAt < RECHECK_AFTER) return cp;
        // Give a long-checked page another chance at write trapping.
        this.dropCounts[page] = 0;
      }
      const kind = this.phys.kind[page];
      if (kind !== PageKind.Ram && kind !== PageKind.RamReadOnly) return null;
      const checked = kind === PageKind.Ram && this.dropCounts[page]! >= CHECKED_AFTER_DROPS;
      // Arm before decoding: a write after this point must drop what we decode.
      if (!checked) this.log.rearm(page);
      const fresh = new CodePage(page, checked, this.now());
      this.ramPages[page] = fresh;
      return fresh;
    }
    const rom = this.romPages.get(page);
    if (rom !== undefined) return rom;
    if (this.phys.kind[page] !== PageKind.Rom) return null;
    const fresh = new CodePage(page, false, 0);
    this.romPages.set(page, fresh);
    return fresh;
  }

  /** True if physical page `page` is cached in checked mode (diagnostics and tests). */
  isChecked(page: number): boolean {
    const cp = page < this.ramPages.length ? this.ramPages[page] : this.romPages.get(page);
    return cp !== null && cp !== undefined && cp.checked;
  }

  /** Drops every decoded record (mode changes do not need this; used by tests and state loads). */
  clear(): void {
    this.ramPages.fill(null);
    this.dropCounts.fill(0);
    this.romPages.clear();
    this.onInvalidate();
  }

  private dropPage(page: number): void {
    const cp = page < this.ramPages.length ? this.ramPages[page]! : null;
    if (cp !== null && !cp.checked) {
      this.ramPages[page] = null;
      const now = this.now();
      if (now - this.lastDrop[page]! > DROP_WINDOW) this.dropCounts[page] = 0;
      this.lastDrop[page] = now;
      if (this.dropCounts[page]! < 255) this.dropCounts[page]!++;
      this.invalidations++;
      this.onInvalidate();
    }
  }

  /** Stops the code dirty log (the CPU is being discarded). */
  dispose(): void {
    this.log.dispose();
  }
}
