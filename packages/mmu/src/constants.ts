/** 4 KiB pages everywhere: paging granularity, dirty-log granularity and snapshot page records. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_SIZE - 1;
/** Number of 4 KiB pages in the 32-bit linear/physical space. */
export const PAGES_4G = 1 << 20;
