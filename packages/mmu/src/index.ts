export * from './constants.ts';
export * from './errors.ts';
export * from './state.ts';
export { DirtyLog, type DirtyLogOptions } from './DirtyLog.ts';
export { PagePresence } from './PagePresence.ts';
export { PhysicalMemory, PageKind, type MmioHandler, type PhysicalMemoryOptions, type TranslationCache } from './PhysicalMemory.ts';
export * from './PageWalker.ts';
export * from './Tlb.ts';
export { Mmu } from './Mmu.ts';
