/**
 * x87 status word bits, the exception mask bits shared by the status and control words, and the
 * control word FNINIT loads (status word layout: Intel SDM vol. 1 figure 8-4).
 */
// Status word bits (SDM vol. 1 figure 8-4).
export const SW_IE = 0x0001;
export const SW_DE = 0x0002;
export const SW_ZE = 0x0004;
export const SW_OE = 0x0008;
export const SW_UE = 0x0010;
export const SW_PE = 0x0020;
export const SW_SF = 0x0040;
export const SW_ES = 0x0080;
export const SW_C0 = 0x0100;
export const SW_C1 = 0x0200;
export const SW_C2 = 0x0400;
export const SW_C3 = 0x4000;
export const SW_B = 0x8000;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
export const EXC_MASK = 0x3f;

export const CW_DEFAULT = 0x037f;
