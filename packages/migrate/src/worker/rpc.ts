import { SnapshotFormatError, type SnapshotErrorCode } from '../format/errors.ts';
import { MigrationError, type MigrationErrorCode } from '../migration/MigrationError.ts';

/**
 * Control-plane results. comlink turns a thrown error into a plain Error and loses its type and
 * code; the worker therefore returns an envelope, and the main thread rebuilds the typed error.
 */
export type RpcResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: { name: string; code?: string; frame?: number; message: string } };

export async function envelope<T>(fn: () => T | Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    const err = e as { name?: string; code?: unknown; frame?: unknown; message?: string } | undefined;
    return {
      ok: false,
      error: {
        name: err?.name ?? 'Error',
        code: typeof err?.code === 'string' ? err.code : undefined,
        frame: typeof err?.frame === 'number' ? err.frame : undefined,
        message: err?.message ?? String(e),
      },
    };
  }
}

export function unwrap<T>(r: RpcResult<T>): T {
  if (r.ok) return r.value;
  const { name, code, message, frame } = r.error;
  if (name === 'MigrationError') throw new MigrationError(code as MigrationErrorCode, message);
  if (name === 'SnapshotFormatError') throw new SnapshotFormatError(code as SnapshotErrorCode, message, frame);
  const e = new Error(message);
  e.name = name;
  throw e;
}
