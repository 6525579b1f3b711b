// Regenerates vectors.json: random and edge-case operands run through this machine's real x87
// (x87run.c, built with Debian's gcc -m32). Usage: node gen.mjs   (see README.md)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, 'x87run');
execFileSync('gcc', ['-m32', '-O1', '-o', bin, join(here, 'x87run.c')]);

// xorshift32, fixed seed: the same inputs every run.
let seed = 0x2545f491;
function rnd() {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
const hex = (v, n) => v.toString(16).padStart(n, '0');
function val(sign, exp, mant) {
  if (exp <= 0) {
    mant >>= BigInt(1 - exp); // below the normal range: a denormal
    exp = 0;
  }
  if (exp > 0x7ffe) exp = 0x7ffe;
  return hex((sign << 15) | exp, 4) + hex(mant, 16);
}
function rmant() {
  let m = (BigInt(rnd()) << 32n) | BigInt(rnd());
  const k = rnd() % 6;
  if (k === 0) m &= ~0xffffffffn; // short significands: exact cases, ties
  if (k === 1) m = (m & ~0xfffn) | 0x400n; // a tie at 53 bits
  if (k === 2) m = (m & ~0xffffffffffn) | 0x8000000000n; // a tie at 24 bits
  if (k === 3) m |= 0xffffffffffn; // carries
  return m | 0x8000000000000000n;
}
function rexp(center, spread) {
  return center + (rnd() % (2 * spread + 1)) - spread;
}
const specials = [
  val(0, 0, 0n), val(1, 0, 0n), val(0, 0x7fff, 1n << 63n), val(1, 0x7fff, 1n << 63n),
  val(0, 0x7fff, 0xc000000000000000n), val(0, 0x7fff, 0xa000000000000000n), val(0, 0, 0x123456789n),
  val(0, 0x3fff, 1n << 63n), val(1, 0x3fff, 1n << 63n), val(0, 0x3ffe, 1n << 63n), val(0, 0x4000, 0xc000000000000000n),
  val(0, 0x7ffe, 0xffffffffffffffffn), val(0, 1, 1n << 63n), val(0, 0x3c01, 1n << 63n), val(0, 0x43fe, 0xffffffffffffffffn),
];
function operand(kind, center) {
  if (kind === 0) return specials[rnd() % specials.length];
  if (kind === 1) return val(rnd() & 1, rexp(center, 3), rmant());
  if (kind === 2) return val(rnd() & 1, rexp(center, 70), rmant());
  return val(rnd() & 1, rexp(0x3fff, 20), rmant());
}
const CWS = [0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x027f, 0x007f, 0x047f, 0x087f, 0x0c7f];
const ops = {
  fadd: 400, fsub: 300, fsubr: 100, fmul: 400, fdiv: 400, fdivr: 100, fsqrt: 300, frndint: 300, fscale: 150,
  fprem: 200, fprem1: 200, fxtract: 60, fcom: 150, fucom: 100, fxam: 40, ftst: 40, fst32: 400, fst64: 400,
  fist16: 200, fist32: 200, fistp64: 200, fbstp: 200, fld32: 150, fld64: 150,
  fldpi: 9, fldl2e: 9, fldl2t: 9, fldlg2: 9, fldln2: 9, fld1: 4, fldz: 4,
  fiadd32: 60, fimul16: 60, fisubr32: 60, fidiv16: 60, ficomp32: 40, fadd32: 80, fsub64: 80, fdivr32: 80, fcom64: 60,
  fild16: 30, fild32: 30, fild64: 30, faddp: 60, fsubp: 60, fsubrp: 60, fdivp: 60, fdivrp: 60, fsub_dc: 60, fdivr_dc: 60,
  fcompp: 40, fucompp: 40, fcomi: 60, fucomip: 60, fchs: 20, fabs: 20, fxch: 20, fincstp: 10, ffree1: 10, fstp1: 20,
  fstp80: 30,
};
// Control words with exceptions unmasked: the FNSAVE at the end records them without trapping.
const UNMASKED = [0x0340, 0x0b62, 0x0277, 0x0f7e, 0x037b];
const lines = [];
for (const [op, count] of Object.entries(ops)) {
  for (let n = 0; n < count; n++) {
    const cw = n % 4 === 3 ? UNMASKED[(n >> 2) % UNMASKED.length] : CWS[n % CWS.length];
    const k = rnd() % 8;
    let a;
    let b;
    if (op.startsWith('fist') || op === 'fbstp' || op === 'frndint') {
      a = k === 0 ? operand(0) : val(rnd() & 1, rexp(0x3fff + (op === 'fist16' ? 14 : op === 'fist32' ? 30 : 60), k < 4 ? 4 : 40), rmant());
      if (k === 7) a = val(rnd() & 1, rexp(0x3ffe, 2), rmant());
      b = operand(3);
    } else if (op === 'fst32' || op === 'fst64') {
      const lim = op === 'fst32' ? 126 : 1022;
      a = k === 0 ? operand(0) : k < 3 ? val(rnd() & 1, rexp(0x3fff - lim, 30), rmant()) : k < 4 ? val(rnd() & 1, rexp(0x3fff + lim, 3), rmant()) : operand(3);
      b = operand(3);
    } else if (op === 'fld32' || op === 'fld64') {
      a = val(0, 0, (BigInt(rnd()) << 32n) | BigInt(rnd()));
      if (k < 2) a = val(0, 0, op === 'fld32' ? BigInt(rnd() & 0x807fffff) : (BigInt(rnd() & 0x800fffff) << 32n) | BigInt(rnd()));
      if (k === 2) a = val(0, 0, op === 'fld32' ? BigInt(((rnd() & 0x80000000) | 0x7f800000 | (rnd() & 0x3fffff)) >>> 0) : 0x7ff4000000000001n);
      b = operand(3);
    } else if (op === 'fscale') {
      a = k === 0 ? operand(0) : operand(3);
      b = k === 1 ? operand(0) : val(rnd() & 1, rexp(0x3fff + 8, 8), rmant());
    } else {
      const center = k < 2 ? 0x3fff : k < 4 ? 1 : k < 5 ? 0x7ffe : 0x3fff + (rnd() % 4000) - 2000;
      a = k === 0 ? operand(0) : operand(k < 6 ? 1 : 2, center);
      b = k === 7 ? operand(0) : operand(k < 6 ? 1 : 2, k === 2 ? 0x3fff : center);
      if (op === 'fdiv' || op === 'fmul') b = k === 3 ? operand(1, 0x3fff + (0x3fff - center)) : b;
    }
    lines.push([op, cw, a, b]);
  }
}
// Memory operands for the integer forms: small integers sometimes, so results are exact too.
for (const l of lines) {
  if (/^fi|^fild/.test(l[0]) && rnd() % 2 === 0) l[2] = l[2].slice(0, 12) + hex(rnd() % 2000, 8);
}
const input = lines.map(([op, cw, a, b]) => `${op} ${cw.toString(16)} ${a} ${b}`).join('\n') + '\n';
const out = execFileSync(bin, { input }).toString().trim().split('\n');
const vectors = lines.map((l, n) => {
  const [sw, tw, r0, r1, mem, fl] = out[n].split(' ');
  return [l[0], l[1], l[2], l[3], parseInt(sw, 16), parseInt(tw, 16), r0, r1, mem, parseInt(fl, 16)];
});
const cpu = execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"]).toString().trim();
writeFileSync(
  join(here, 'vectors.json'),
  JSON.stringify({ recordedOn: cpu, format: 'op, cw, A, B, sw, tag word, ST0, ST1, mem16, eflags & 0x8d5', vectors }).replace(/\],\[/g, '],\n['),
);
console.log(`${vectors.length} vectors recorded on ${cpu}`);
