export { IoBus, PortConflictError, type PortHandlers, type PortIn, type PortOut } from './io-bus.ts';
export {
  VirtualClock, ClockTimer, ClockTimerError, type Pacing, type TimerCallback, type VirtualClockOptions,
} from './virtual-clock.ts';
export { Pic8259, type PicRole } from './pic8259.ts';
export { PicPair } from './pic-pair.ts';
export { Pit8254, PIT_HZ, pitNsToTick, pitTickToNs, type Pit8254Options } from './pit8254.ts';
export { PitCounter, CounterPhase, type PitAccess } from './pit-counter.ts';
export { Uart16550, type Uart16550Options } from './uart16550.ts';
export { DebugConsole } from './debug-console.ts';
export { ByteQueue } from './byte-queue.ts';
export { StampedInputQueue, type StampedInput } from './serial-input.ts';
export {
  PcMachine, SLICE_CAP, type PcMachineConfig, type PcMachineResolvedConfig, type DebugConsoleConfig, type RunExit, type RunExitReason, type InputLogEntry,
} from './pc-machine.ts';
export {
  loadMultiboot, MultibootError, MULTIBOOT_HEADER_MAGIC, MULTIBOOT_BOOTLOADER_MAGIC, type MultibootLoadResult,
} from './multiboot.ts';
export { loadBiosRom, BiosRomError, type BiosRomLoadResult } from './bios-rom.ts';
export { runUntilExit, type RunUntilOptions } from './run-async.ts';
export { CmosRtc, DEFAULT_RTC_START_MS, type CmosRtcOptions } from './cmos-rtc.ts';
export { I8042, type I8042Options } from './i8042.ts';
export { Ps2Keyboard } from './ps2-keyboard.ts';
export { SystemControlPortA, type SystemControlPortAOptions } from './system-control-port-a.ts';
export { SystemControlPortB, REFRESH_PERIOD_NS } from './system-control-port-b.ts';
export { PostCodePort } from './post-code-port.ts';
export { FpuErrorPort } from './fpu-error-port.ts';
export {
  loadLinux, loadBzImage, loadVmlinux, LinuxBootError, type LinuxBootOptions, type LinuxBootResult,
} from './linux-boot.ts';
export { buildBootParams, pcE820Map, BP as BOOT_PARAMS_OFFSETS, type E820Entry } from './linux-boot-params.ts';
export { PciBus, PciSlotConflictError, PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_DATA_PORT } from './pci-bus.ts';
export { PciFunction, PCI_CONFIG_SIZE, type PciIdentity } from './pci-function.ts';
export { I440fxHostBridge, I440FX_DEVICE_ID, I440FX_PAM0, I440FX_SMRAM } from './i440fx.ts';
export { Piix3IsaBridge, PIIX3_ISA_DEVICE_ID, RESET_CONTROL_PORT, type Piix3Options } from './piix3.ts';
export { ShadowRam, PAM_RE, PAM_WE } from './shadow-ram.ts';
export { I440fxChipset, type I440fxChipsetOptions } from './i440fx-chipset.ts';
export {
  CowDisk, COW_DISK_SCHEMA, SECTOR_SIZE, DEFAULT_BLOCK_SIZE, BlockDirtyLog, hashDiskImage, DiskImageMismatchError, DiskRangeError,
  type CowDiskOptions,
} from './disk/index.ts';
export { AtaDrive, IdeChannel, Piix3Ide, PIIX3_IDE_DEVICE_ID, buildIdentify, defaultGeometry, ATA, type AtaDriveOptions, type IdeChannelOptions, type ChsGeometry, type IdentifyParams } from './ata/index.ts';
export type { DiskImage, PcDisksConfig } from './pc-machine.ts';
