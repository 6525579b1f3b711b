/*
 * Generates flags-ref.json: results and EFLAGS of ALU, shift, rotate, multiply and divide
 * instructions executed natively on the host x86 CPU (the reference machine for the flag unit
 * tests). Build and run: gcc -m32 -O1 -o /tmp/flags-ref flags-ref.c && /tmp/flags-ref > flags-ref.json
 *
 * Each record: op (mnemonic), size (8/16/32), a, b (inputs in EAX/EBX, count in CL), cin (CF
 * before), r (EAX after), d (EDX after, for mul/div), f (EFLAGS & 0x8D5 after).
 */
#include <stdio.h>
#include <stdint.h>

static const uint32_t vals[] = {0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
                                0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff, 0x12345678,
                                0xdeadbeef, 0x0f0f0f0f};
#define NV (sizeof(vals) / sizeof(vals[0]))
static const uint32_t counts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33};
#define NC (sizeof(counts) / sizeof(counts[0]))
static int first = 1;

static void emit(const char *op, int size, uint32_t a, uint32_t b, int cin, uint32_t r, uint32_t d, uint32_t f) {
  printf("%s{\"op\":\"%s\",\"size\":%d,\"a\":%u,\"b\":%u,\"cin\":%d,\"r\":%u,\"d\":%u,\"f\":%u}\n", first ? "[" : ",", op,
         size, a, b, cin, r, d, f & 0x8d5);
  first = 0;
}

/* Two-operand op "INSN eax-ish, ebx-ish" with CF preset. */
#define BIN(name, insn, size)                                                                         \
  static void name(uint32_t a, uint32_t b, int cin) {                                                 \
    uint32_t r, f;                                                                                    \
    __asm__ volatile("cmp $1, %%ecx\n\tcmc\n\t" /* CF = cin */                                        \
                     insn "\n\tpushf\n\tpop %%ecx"                                                    \
                     : "=a"(r), "=c"(f)                                                               \
                     : "a"(a), "b"(b), "c"(cin)                                                       \
                     : "cc", "edx");                                                                  \
    emit(#name, size, a, b, cin, r, 0, f);                                                            \
  }

BIN(add8, "addb %%bl, %%al", 8)
BIN(add16, "addw %%bx, %%ax", 16)
BIN(add32, "addl %%ebx, %%eax", 32)
BIN(adc8, "adcb %%bl, %%al", 8)
BIN(adc16, "adcw %%bx, %%ax", 16)
BIN(adc32, "adcl %%ebx, %%eax", 32)
BIN(sub8, "subb %%bl, %%al", 8)
BIN(sub16, "subw %%bx, %%ax", 16)
BIN(sub32, "subl %%ebx, %%eax", 32)
BIN(sbb8, "sbbb %%bl, %%al", 8)
BIN(sbb16, "sbbw %%bx, %%ax", 16)
BIN(sbb32, "sbbl %%ebx, %%eax", 32)
BIN(and32, "andl %%ebx, %%eax", 32)
BIN(or16, "orw %%bx, %%ax", 16)
BIN(xor8, "xorb %%bl, %%al", 8)
BIN(cmp32, "cmpl %%ebx, %%eax", 32)
BIN(inc32, "incl %%eax", 32)
BIN(dec32, "decl %%eax", 32)
BIN(inc8, "incb %%al", 8)
BIN(dec16, "decw %%ax", 16)
BIN(neg32, "negl %%eax", 32)
BIN(neg8, "negb %%al", 8)
BIN(imul2_32, "imull %%ebx, %%eax", 32)
BIN(imul2_16, "imulw %%bx, %%ax", 16)

/* Shifts and rotates by CL. */
#define SHIFT(name, insn, size)                                                                       \
  static void name(uint32_t a, uint32_t cnt, int cin) {                                               \
    uint32_t r, f;                                                                                    \
    __asm__ volatile("cmp $1, %%edx\n\tcmc\n\t" insn "\n\tpushf\n\tpop %%edx"                         \
                     : "=a"(r), "=d"(f)                                                               \
                     : "a"(a), "c"(cnt), "d"(cin)                                                     \
                     : "cc");                                                                         \
    emit(#name, size, a, cnt, cin, r, 0, f);                                                          \
  }

SHIFT(shl8, "shlb %%cl, %%al", 8)
SHIFT(shl16, "shlw %%cl, %%ax", 16)
SHIFT(shl32, "shll %%cl, %%eax", 32)
SHIFT(shr8, "shrb %%cl, %%al", 8)
SHIFT(shr16, "shrw %%cl, %%ax", 16)
SHIFT(shr32, "shrl %%cl, %%eax", 32)
SHIFT(sar8, "sarb %%cl, %%al", 8)
SHIFT(sar16, "sarw %%cl, %%ax", 16)
SHIFT(sar32, "sarl %%cl, %%eax", 32)
SHIFT(rol8, "rolb %%cl, %%al", 8)
SHIFT(rol32, "roll %%cl, %%eax", 32)
SHIFT(ror16, "rorw %%cl, %%ax", 16)
SHIFT(ror32, "rorl %%cl, %%eax", 32)
SHIFT(rcl8, "rclb %%cl, %%al", 8)
SHIFT(rcl32, "rcll %%cl, %%eax", 32)
SHIFT(rcr16, "rcrw %%cl, %%ax", 16)
SHIFT(rcr32, "rcrl %%cl, %%eax", 32)

/* One-operand multiply and divide: EDX:EAX op EBX. */
#define MULDIV(name, insn, size)                                                                      \
  static void name(uint32_t a, uint32_t b, uint32_t dx) {                                             \
    uint32_t r, d, f;                                                                                 \
    __asm__ volatile(insn "\n\tpushf\n\tpop %%ecx" : "=a"(r), "=d"(d), "=c"(f) : "a"(a), "b"(b), "d"(dx) : "cc"); \
    emit(#name, size, a, b, (int)dx, r, d, f);                                                        \
  }

MULDIV(mul32, "mull %%ebx", 32)
MULDIV(imul32, "imull %%ebx", 32)
MULDIV(mul16, "mulw %%bx", 16)
MULDIV(imul8, "imulb %%bl", 8)
MULDIV(div32, "divl %%ebx", 32)
MULDIV(idiv32, "idivl %%ebx", 32)

int main(void) {
  for (unsigned i = 0; i < NV; i++)
    for (unsigned j = 0; j < NV; j++)
      for (int cin = 0; cin < 2; cin++) {
        uint32_t a = vals[i], b = vals[j];
        add8(a, b, cin); add16(a, b, cin); add32(a, b, cin);
        adc8(a, b, cin); adc16(a, b, cin); adc32(a, b, cin);
        sub8(a, b, cin); sub16(a, b, cin); sub32(a, b, cin);
        sbb8(a, b, cin); sbb16(a, b, cin); sbb32(a, b, cin);
        and32(a, b, cin); or16(a, b, cin); xor8(a, b, cin); cmp32(a, b, cin);
        if (j == 0) { inc32(a, b, cin); dec32(a, b, cin); inc8(a, b, cin); dec16(a, b, cin); neg32(a, b, cin); neg8(a, b, cin); }
        if (cin == 0) {
          imul2_32(a, b, 0); imul2_16(a, b, 0);
          mul32(a, b, 0); imul32(a, b, 0); mul16(a, b, 0); imul8(a, b, 0);
          if (b != 0) {
            div32(a, b, 0);
            uint32_t hi = (b >> 1) & 0x7fffffff; /* a nonzero EDX below the divisor: no #DE */
            div32(a, b, hi);
            if (b != 0xffffffff && !(a == 0x80000000 && b == 0xffffffff)) idiv32(a, b, (a & 0x80000000) ? 0xffffffff : 0);
          }
        }
      }
  for (unsigned i = 0; i < NV; i++)
    for (unsigned k = 0; k < NC; k++)
      for (int cin = 0; cin < 2; cin++) {
        uint32_t a = vals[i], c = counts[k];
        shl8(a, c, cin); shl16(a, c, cin); shl32(a, c, cin);
        shr8(a, c, cin); shr16(a, c, cin); shr32(a, c, cin);
        sar8(a, c, cin); sar16(a, c, cin); sar32(a, c, cin);
        rol8(a, c, cin); rol32(a, c, cin); ror16(a, c, cin); ror32(a, c, cin);
        rcl8(a, c, cin); rcl32(a, c, cin); rcr16(a, c, cin); rcr32(a, c, cin);
      }
  printf("]\n");
  return 0;
}
