/**
 * ATA register bits and command codes, from ATA/ATAPI-6 (T13/1410D rev. 3b). Section numbers in
 * comments refer to that document.
 */

/** Status register (§7.15): the device's state as the host sees it. */
export const ST_BSY = 0x80;
/** Device ready: able to accept commands. */
export const ST_DRDY = 0x40;
/** Device fault. */
export const ST_DF = 0x20;
/** Seek complete (obsolete in ATA-6 but set by every drive and by QEMU; old drivers test it). */
export const ST_DSC = 0x10;
/** Data request: the device is ready to transfer a word of data. */
export const ST_DRQ = 0x08;
export const ST_ERR = 0x01;

/** Error register (§7.11). */
export const ER_ABRT = 0x04;
/** ID not found: the address is outside the device's range. */
export const ER_IDNF = 0x10;

/** Device register (§7.10): bit 4 selects the device, bit 6 LBA addressing, bits 3:0 head / LBA 27:24. */
export const DEV_DEV = 0x10;
export const DEV_LBA = 0x40;

/** Device Control register (§7.9). */
export const DC_NIEN = 0x02;
export const DC_SRST = 0x04;
/** High order byte: reads of the command block return the previous (HOB) value (48-bit, §6.20). */
export const DC_HOB = 0x80;

/** Commands (chapter 8). */
export const CMD = {
  RECALIBRATE: 0x10, // 10h-1Fh, obsolete (ATA-3 §8.22); accepted as a no-op
  READ_SECTORS: 0x20, // §8.27
  READ_SECTORS_NORETRY: 0x21,
  READ_SECTORS_EXT: 0x24, // §8.28
  READ_NATIVE_MAX_EXT: 0x27, // §8.26
  READ_MULTIPLE_EXT: 0x29, // §8.24
  WRITE_SECTORS: 0x30, // §8.48
  WRITE_SECTORS_NORETRY: 0x31,
  WRITE_SECTORS_EXT: 0x34, // §8.49
  WRITE_MULTIPLE_EXT: 0x39, // §8.46
  READ_VERIFY_SECTORS: 0x40, // §8.31
  READ_VERIFY_SECTORS_NORETRY: 0x41,
  READ_VERIFY_SECTORS_EXT: 0x42, // §8.32
  SEEK: 0x70, // §8.34 (obsolete)
  EXECUTE_DEVICE_DIAGNOSTIC: 0x90, // §8.11
  INITIALIZE_DEVICE_PARAMETERS: 0x91, // ATA-5 §8.16 (obsolete in ATA-6, still used by BIOSes)
  READ_MULTIPLE: 0xc4, // §8.23
  WRITE_MULTIPLE: 0xc5, // §8.45
  SET_MULTIPLE_MODE: 0xc6, // §8.39
  STANDBY_IMMEDIATE: 0xe0, // §8.43
  IDLE_IMMEDIATE: 0xe1, // §8.18
  STANDBY: 0xe2, // §8.42
  IDLE: 0xe3, // §8.17
  CHECK_POWER_MODE: 0xe5, // §8.6
  SLEEP: 0xe6, // §8.41
  FLUSH_CACHE: 0xe7, // §8.13
  FLUSH_CACHE_EXT: 0xea, // §8.14
  IDENTIFY_DEVICE: 0xec, // §8.15
  SET_FEATURES: 0xef, // §8.37
  READ_NATIVE_MAX: 0xf8, // §8.25
} as const;

/** Largest R/W MULTIPLE block this device offers (IDENTIFY word 47), as QEMU's disks do. */
export const MAX_MULTIPLE_SECTORS = 16;
