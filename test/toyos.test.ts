/**
 * The toy OS against the reference machine: its image is what its sources say, and its
 * timing-independent selftest prints the same transcript on ferry86 as on Debian's
 * qemu-system-i386 (which recorded expected/selftest.qemu.txt and is also run live here).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMultiboot, PcMachine } from '@ferry86/devices';
import { extractSelftest, runOnce } from '../examples/toyos/run-qemu.mjs';
import { GuestConsole } from './support/guest-console.ts';

const toyos = (p: string) => fileURLToPath(new URL(`../examples/toyos/${p}`, import.meta.url));
const expected = readFileSync(toyos('expected/selftest.qemu.txt'), 'latin1').split('\n').slice(0, -1);

describe('toyos', () => {
  it('rebuilds byte-identical from its sources, as do the benchmark guests', () => {
    const out = execFileSync('sh', [toyos('check-build.sh')], { encoding: 'utf8' });
    expect(out).toContain('matches its sources');
    const guests = fileURLToPath(new URL('../examples/guests/check-build.sh', import.meta.url));
    expect(execFileSync('sh', [guests], { encoding: 'utf8' })).toContain('guest images match');
  });

  it('prints the recorded selftest transcript on qemu-system-i386', async () => {
    const output = await runOnce({ image: toyos('toyos.bin'), append: '', timeoutMs: 120_000 });
    expect(extractSelftest(output)).toEqual(expected);
  });

  it('prints the same selftest transcript on ferry86 as on the reference machine', () => {
    const machine = new PcMachine({ memoryMiB: 64 });
    loadMultiboot(machine, readFileSync(toyos('toyos.bin')), '');
    const con = new GuestConsole(machine);
    con.runUntil((o) => /\nready\r?\n/.test(o) && o.endsWith('> '), 200e6);
    expect(con.output.startsWith('toyos 1.0 booting')).toBe(true);
    expect(con.output).toContain('paging on');
    con.type('selftest\r');
    con.runUntil((o) => /\nselftest done\r?\n/.test(o), 2e9);
    expect(extractSelftest(con.output)).toEqual(expected);
    expect(con.output).not.toMatch(/ERROR|PANIC/);
  });
});
