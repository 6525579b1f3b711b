/**
 * Guest exceptions raised while an instruction executes. A single preallocated object is thrown
 * (no allocation, no stack capture on the hot path); the run loop catches it, rolls EIP back to the
 * faulting instruction and delivers the exception through the IVT/IDT. It never reaches callers.
 */
export class GuestFault {
  vector = 0;
  errorCode = 0;
  hasErrorCode = false;
}

/**
 * A guest did something this CPU model does not implement (see the package README's "Not
 * implemented"). Thrown out of Cpu.run() as a host error: continuing would run the guest incorrectly.
 */
export class CpuUnimplementedError extends Error {
  override readonly name = 'CpuUnimplementedError';
  constructor(what: string, readonly eip: number) {
    super(`${what} is not implemented by this CPU model (at EIP 0x${(eip >>> 0).toString(16)})`);
  }
}
