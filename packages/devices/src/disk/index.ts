export { CowDisk, COW_DISK_SCHEMA, SECTOR_SIZE, DEFAULT_BLOCK_SIZE, type CowDiskOptions } from './cow-disk.ts';
export { BlockDirtyLog } from './block-dirty-log.ts';
export { hashDiskImage } from './disk-hash.ts';
export { DiskImageMismatchError, DiskRangeError } from './errors.ts';
