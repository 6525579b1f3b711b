/**
 * `ferry86 snapshot` / `ferry86 restore` (examples/node/commands) end to end, as a user runs them.
 * Lives here because it exercises this package's snapshot paths; it only spawns the CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ferry86-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ferry86(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('pnpm', ['-s', 'ferry86', ...args], { cwd: ROOT, input, encoding: 'latin1', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ferry86 snapshot / restore', () => {
  const snapAt = (out: string) =>
    ferry86(['snapshot', '--multiboot', 'examples/toyos/toyos.bin', '--append', 'workers=2', '--at', '6000000', '--mem', '16', '--out', out]);

  it('snapshot runs to exactly instruction N: the same command writes the same bytes', () => {
    const a = snapAt(join(dir, 'a.snap'));
    expect(a.stderr).toMatch(/at instruction 6000000, working set \d+ pages, digest [0-9a-f]{32}/);
    expect(a.status).toBe(0);
    const b = snapAt(join(dir, 'b.snap'));
    expect(b.status).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'a.snap')), readFileSync(join(dir, 'b.snap')))).toBe(0);
  });

  it('restore (eager and --lazy) continues the guest with COM1 on stdio', () => {
    const file = join(dir, 'r.snap');
    expect(snapAt(file).status).toBe(0);
    for (const mode of [[], ['--lazy']]) {
      const r = ferry86(['restore', file, ...mode, '--max-instructions', '8000000'], 'echo restored\r');
      expect(r.stderr).toMatch(new RegExp(`${mode.length ? 'lazy' : 'eager'} restore at instruction 6000000`));
      expect(r.stdout).toContain('\r\nrestored\r\n');
      expect(r.status).toBe(0);
    }
  });

  it('snapshot --compress writes a smaller file that restores (eager and --lazy) and continues the same', () => {
    const plainFile = join(dir, 'p.snap');
    const packedFile = join(dir, 'z.snap');
    expect(snapAt(plainFile).status).toBe(0);
    const z = ferry86(['snapshot', '--multiboot', 'examples/toyos/toyos.bin', '--append', 'workers=2', '--at', '6000000', '--mem', '16', '--out', packedFile, '--compress']);
    expect(z.status).toBe(0);
    expect(z.stderr).toMatch(/at instruction 6000000, working set \d+ pages, digest [0-9a-f]{32} .*compressed: RAM pages [\d.]+ -> [\d.]+ MiB/);
    const digestOf = (t: string) => /digest ([0-9a-f]{32})/.exec(t)![1];
    expect(digestOf(z.stderr)).toBe(digestOf(snapAt(plainFile).stderr));
    expect(readFileSync(packedFile).length).toBeLessThan(readFileSync(plainFile).length / 2);
    for (const mode of [[], ['--lazy']]) {
      const r = ferry86(['restore', packedFile, ...mode, '--max-instructions', '8000000'], 'echo packed\r');
      expect(r.stderr).toMatch(new RegExp(`${mode.length ? 'lazy' : 'eager'} restore at instruction 6000000`));
      if (!mode.length) expect(r.stderr).toMatch(/format v2 compressed/);
      expect(r.stdout).toContain('\r\npacked\r\n');
      expect(r.status).toBe(0);
    }
  });

  it('restore reads a snapshot of format version 1 (checked-in fixture)', () => {
    const r = ferry86(['restore', 'packages/migrate/test/fixtures/snapshots/v1-toyos-10m.snap', '--max-instructions', '200000']);
    expect(r.stderr).toMatch(/eager restore at instruction 3000000 .*format v1\n/);
    expect(r.status).toBe(0);
  });

  it('restore refuses a corrupt snapshot with the reason', () => {
    const file = join(dir, 'c.snap');
    expect(snapAt(file).status).toBe(0);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10; // inside a page frame
    writeFileSync(file, bytes);
    const r = ferry86(['restore', file, '--max-instructions', '1000']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/CRC mismatch in frame \d+ \(crc-mismatch\)/);
  });
});
