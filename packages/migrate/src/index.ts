export * from './format/constants.ts';
export * from './format/errors.ts';
export { crc32c } from './format/crc32c.ts';
export { canonicalJson, encodeHeader, readStreamHeader, type StreamHeader } from './format/header.ts';
export { encodeSection, decodeSection, type DecodedSection } from './format/section-codec.ts';
export { StreamEncoder, type StreamEncoderOptions } from './format/StreamEncoder.ts';
export { StreamDecoder, type StreamSink, type StreamEnd, type ParentRef, type StreamDecoderOptions } from './format/StreamDecoder.ts';
export { defaultPageCodec, nodeDeflateCodec, streamDeflateCodec, type PageCodec } from './format/page-codec.ts';
export { compressChunkFrames } from './format/recompress.ts';
export { hashBytes, hashWords, hashToHex } from './digest/hash128.ts';
export { PageHashes, ZERO_PAGE_HASH } from './digest/PageHashes.ts';
export { combineDigest, digestEquals, digestToHex, stateDigest, type DigestSection } from './digest/stateDigest.ts';
export { allParts, type MigratableMachine, type MigratableMemory, type MigratableDirtyLog } from './machine.ts';
export { RamWriter } from './snapshot/RamWriter.ts';
export { StateLoader, type StateLoaderOptions } from './snapshot/StateLoader.ts';
export { saveSnapshot, snapshotChunks, snapshotChunksAsync, PRODUCER, type SaveSnapshotOptions, type SnapshotStats } from './snapshot/saveSnapshot.ts';
export { restoreSnapshot, restoreSnapshotChain, restoreSnapshotChainAsync, SnapshotRestorer, type RestoreSnapshotOptions, type RestoreResult } from './snapshot/restoreSnapshot.ts';
export { IncrementalSnapshotter, type IncrementalSnapshotterOptions, type ChainSnapshotInfo } from './snapshot/IncrementalSnapshotter.ts';
export type { ChainLink } from './snapshot/StateLoader.ts';
export { isDeltaStateful, type DeltaStateful, type DeltaLog } from './snapshot/DeltaPart.ts';
export type { MessageTransport, TransportHandlers } from './transport/MessageTransport.ts';
export { TransportClosedError } from './transport/MessageTransport.ts';
export { MessagePortTransport, type MessagePortLike } from './transport/MessagePortTransport.ts';
export * from './transport/StreamSocketTransport.ts';
export { WebSocketTransport, type WebSocketLike } from './transport/WebSocketTransport.ts';
export { LoopbackTransport, createLoopbackPair, type LinkFault } from './transport/LoopbackTransport.ts';
export { MigrationError, type MigrationErrorCode } from './migration/MigrationError.ts';
export { MigrationSource, type MigrationSourceOptions } from './migration/MigrationSource.ts';
export { MigrationTarget, type MigrationTargetOptions, type MigrationTargetProgress, type MigrationTargetResult } from './migration/MigrationTarget.ts';
export type { MigrationMode, MigrationStats, MigrationStatus, PostCopyStats, RoundStats } from './migration/stats.ts';
export { PostCopyPager, type PostCopyMachine, type PostCopyPagerStats } from './migration/PostCopyPager.ts';
export { yieldToEventLoop } from './migration/eventLoop.ts';
export { SerialAssembler, type SerialChunk } from './worker/SerialAssembler.ts';
export { RuntimeState, type HostedMachine, type MachineFactory } from './worker/HostedMachine.ts';
export {
  VmRuntime,
  type VmRuntimeOptions,
  type VmRuntimeStatus,
  type MigrateToOptions,
  type MigrateToResult,
  type ReceiveFromResult,
  type SerialSink,
} from './worker/VmRuntime.ts';
export { runWorker } from './worker/runWorker.ts';
export type { VmWorkerApi } from './worker/api.ts';
export type { RpcResult } from './worker/rpc.ts';
export { VmWorker, DEFAULT_WORKER_BUNDLE, type VmWorkerSpawnOptions, type WorkerMigrationResult } from './worker/VmWorker.ts';
export { MigratablePc, createPcMachine } from './MigratablePc.ts';
export { LazyRestorer, type LazyMachine, type LazyRestoreOptions, type LazyRestoreStats } from './lazy/LazyRestorer.ts';
export { recordWorkingSet, WorkingSetPart, WORKING_SET_SCHEMA, WORKING_SET_SECTION, type PresenceControl } from './snapshot/WorkingSet.ts';
export { SnapshotImage, type SnapshotImageOptions } from './snapshot/SnapshotImage.ts';
export { sourceChunks, fileChunks, READ_CHUNK_BYTES, type SnapshotSource, type NodeWritableLike } from './io/sources.ts';
export {
  writeSnapshotToNode,
  writeSnapshotToFile,
  writeSnapshotToWeb,
  snapshotReadableStream,
  snapshotBlob,
  type WriteSnapshotOptions,
} from './io/writeSnapshot.ts';
export { restoreSnapshotFrom, restoreSnapshotFile, restoreFreshFrom, openSnapshotImage, type ReadSnapshotOptions } from './io/readSnapshot.ts';
