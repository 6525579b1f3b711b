export { AtaDrive, type AtaDriveOptions } from './ata-drive.ts';
export { IdeChannel, type IdeChannelOptions } from './ide-channel.ts';
export { Piix3Ide, PIIX3_IDE_DEVICE_ID } from './piix3-ide.ts';
export { buildIdentify, defaultGeometry, type ChsGeometry, type IdentifyParams } from './ata-identify.ts';
export * as ATA from './ata-constants.ts';
