import { MemoryConfigError } from './errors.ts';

/**
 * One present bit per RAM page (DESIGN §2.2). Every page is present unless marked absent; an access
 * to an absent page raises PageAbsentError before changing any state. Listeners (the TLBs) are told
 * when a page becomes absent so they drop their cached translations to it.
 */
export class PagePresence {
  /** 1 = present. Read directly by the TLB fill path. */
  readonly bits: Uint8Array;
  private absent = 0;
  private readonly onAbsent: ((page: number) => void)[] = [];

  constructor(readonly pageCount: number) {
    this.bits = new Uint8Array(pageCount).fill(1);
  }

  get absentCount(): number {
    return this.absent;
  }

  isPresent(page: number): boolean {
    return this.bits[page] === 1;
  }

  markPresent(page: number): void {
    this.check(page);
    if (this.bits[page] === 0) {
      this.bits[page] = 1;
      this.absent--;
    }
  }

  markAbsent(page: number): void {
    this.check(page);
    if (this.bits[page] === 1) {
      this.bits[page] = 0;
      this.absent++;
      for (const l of this.onAbsent) l(page);
    }
  }

  markAllAbsent(): void {
    this.bits.fill(0);
    this.absent = this.pageCount;
    for (const l of this.onAbsent) l(-1);
  }

  markAllPresent(): void {
    this.bits.fill(1);
    this.absent = 0;
  }

  /** `page` is -1 when every page became absent at once. */
  addAbsentListener(listener: (page: number) => void): void {
    this.onAbsent.push(listener);
  }

  private check(page: number): void {
    if (!(page >= 0 && page < this.pageCount && Number.isInteger(page))) {
      throw new MemoryConfigError(`page ${page} is outside RAM (0..${this.pageCount - 1})`);
    }
  }
}
