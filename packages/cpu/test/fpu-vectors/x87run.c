/*
 * Runs one x87 operation per input line on this machine's real FPU and prints the results, to
 * record reference vectors for ferry86's FPU (see gen.mjs). Build: gcc -m32 -O1 -o x87run x87run.c
 *
 * Input:  OP CW A B       (OP a name below, CW hex, A/B 80-bit values as 20 hex digits, sign/exp first)
 * Setup:  FNINIT; FLDCW CW; FLD B; FLD A  (so ST0 = A, ST1 = B); MEM = 16 bytes of 0xAA, with the
 *         low 8 bytes of A's significand copied to MEM for the load operations.
 * Then:  FNSTSW; PUSHF/POP (EFLAGS); FNSAVE (non-waiting, so unmasked exceptions are recorded
 *         without trapping; FNSAVE also reinitialises the FPU).
 * Output: SW TW R0 R1 MEM FL  (status word right after OP; tag word and ST0/ST1 from the FNSAVE
 *         image; the 16 MEM bytes; EFLAGS & 0x8d5)
 */
#include <stdio.h>
#include <string.h>

typedef struct { unsigned char b[10]; } __attribute__((packed)) f80;
static f80 A, B;
static unsigned char IMG[108];
static unsigned short CW, SW;
static unsigned FL;
static unsigned char MEM[16];

#define RUN(OPASM) \
  __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" OPASM "\n\tfnstsw %[sw]\n\tpushfl\n\tpopl %[fl]\n\tfnsave %[img]" \
                   : [sw] "=m"(SW), [img] "=m"(IMG), [fl] "=m"(FL), [mem] "+m"(MEM) \
                   : [cw] "m"(CW), [a] "m"(A), [b] "m"(B) : "memory", "cc")

static void parse80(const char *h, f80 *v) {
  for (int i = 0; i < 10; i++) {
    unsigned x;
    sscanf(h + 2 * i, "%2x", &x);
    v->b[9 - i] = (unsigned char)x;
  }
}

static void print80(const f80 *v) {
  for (int i = 9; i >= 0; i--) printf("%02x", v->b[i]);
}

int main(void) {
  char op[32], a[32], b[32];
  unsigned cw;
  while (scanf("%31s %x %31s %31s", op, &cw, a, b) == 4) {
    CW = (unsigned short)cw;
    parse80(a, &A);
    parse80(b, &B);
    memset(MEM, 0xaa, sizeof MEM);
    memcpy(MEM, A.b, 8);
    if (!strcmp(op, "fadd")) RUN("fadd %%st(1), %%st");
    else if (!strcmp(op, "fsub")) RUN("fsub %%st(1), %%st");
    else if (!strcmp(op, "fsubr")) RUN("fsubr %%st(1), %%st");
    else if (!strcmp(op, "fmul")) RUN("fmul %%st(1), %%st");
    else if (!strcmp(op, "fdiv")) RUN("fdiv %%st(1), %%st");
    else if (!strcmp(op, "fdivr")) RUN("fdivr %%st(1), %%st");
    else if (!strcmp(op, "fsqrt")) RUN("fsqrt");
    else if (!strcmp(op, "frndint")) RUN("frndint");
    else if (!strcmp(op, "fscale")) RUN("fscale");
    else if (!strcmp(op, "fprem")) RUN("fprem");
    else if (!strcmp(op, "fprem1")) RUN("fprem1");
    else if (!strcmp(op, "fxtract")) RUN("fxtract");
    else if (!strcmp(op, "fcom")) RUN("fcom %%st(1)");
    else if (!strcmp(op, "fucom")) RUN("fucom %%st(1)");
    else if (!strcmp(op, "fxam")) RUN("fxam");
    else if (!strcmp(op, "ftst")) RUN("ftst");
    else if (!strcmp(op, "fst32")) RUN("fsts %[mem]");
    else if (!strcmp(op, "fst64")) RUN("fstl %[mem]");
    else if (!strcmp(op, "fist16")) RUN("fists %[mem]");
    else if (!strcmp(op, "fist32")) RUN("fistl %[mem]");
    else if (!strcmp(op, "fistp64")) RUN("fistpll %[mem]");
    else if (!strcmp(op, "fbstp")) RUN("fbstp %[mem]");
    else if (!strcmp(op, "fld32")) RUN("flds %[mem]");
    else if (!strcmp(op, "fld64")) RUN("fldl %[mem]");
    else if (!strcmp(op, "fldpi")) RUN("fldpi");
    else if (!strcmp(op, "fldl2e")) RUN("fldl2e");
    else if (!strcmp(op, "fldl2t")) RUN("fldl2t");
    else if (!strcmp(op, "fldlg2")) RUN("fldlg2");
    else if (!strcmp(op, "fldln2")) RUN("fldln2");
    else if (!strcmp(op, "fld1")) RUN("fld1");
    else if (!strcmp(op, "fldz")) RUN("fldz");
    else if (!strcmp(op, "fiadd32")) RUN("fiaddl %[mem]");
    else if (!strcmp(op, "fimul16")) RUN("fimuls %[mem]");
    else if (!strcmp(op, "fisubr32")) RUN("fisubrl %[mem]");
    else if (!strcmp(op, "fidiv16")) RUN("fidivs %[mem]");
    else if (!strcmp(op, "ficomp32")) RUN("ficompl %[mem]");
    else if (!strcmp(op, "fadd32")) RUN("fadds %[mem]");
    else if (!strcmp(op, "fsub64")) RUN("fsubl %[mem]");
    else if (!strcmp(op, "fdivr32")) RUN("fdivrs %[mem]");
    else if (!strcmp(op, "fcom64")) RUN("fcoml %[mem]");
    else if (!strcmp(op, "fild16")) RUN("filds %[mem]");
    else if (!strcmp(op, "fild32")) RUN("fildl %[mem]");
    else if (!strcmp(op, "fild64")) RUN("fildll %[mem]");
    else if (!strcmp(op, "faddp")) RUN(".byte 0xde, 0xc1");
    else if (!strcmp(op, "fsubp")) RUN(".byte 0xde, 0xe9");
    else if (!strcmp(op, "fsubrp")) RUN(".byte 0xde, 0xe1");
    else if (!strcmp(op, "fdivp")) RUN(".byte 0xde, 0xf9");
    else if (!strcmp(op, "fdivrp")) RUN(".byte 0xde, 0xf1");
    else if (!strcmp(op, "fsub_dc")) RUN(".byte 0xdc, 0xe9");
    else if (!strcmp(op, "fdivr_dc")) RUN(".byte 0xdc, 0xf1");
    else if (!strcmp(op, "fcompp")) RUN("fcompp");
    else if (!strcmp(op, "fucompp")) RUN("fucompp");
    else if (!strcmp(op, "fcomi")) RUN("fcomi %%st(1), %%st");
    else if (!strcmp(op, "fucomip")) RUN("fucomip %%st(1), %%st");
    else if (!strcmp(op, "fchs")) RUN("fchs");
    else if (!strcmp(op, "fabs")) RUN("fabs");
    else if (!strcmp(op, "fxch")) RUN("fxch %%st(1)");
    else if (!strcmp(op, "fincstp")) RUN("fincstp");
    else if (!strcmp(op, "ffree1")) RUN("ffree %%st(1)");
    else if (!strcmp(op, "fstp1")) RUN("fstp %%st(1)");
    else if (!strcmp(op, "fstp80")) RUN("fstpt %[mem]");
    else {
      fprintf(stderr, "unknown op %s\n", op);
      return 1;
    }
    printf("%04x %04x ", SW, IMG[8] | (IMG[9] << 8));
    print80((const f80 *)(IMG + 28));
    putchar(' ');
    print80((const f80 *)(IMG + 38));
    putchar(' ');
    for (int i = 0; i < 16; i++) printf("%02x", MEM[i]);
    printf(" %x\n", FL & 0x8d5);
  }
  return 0;
}
