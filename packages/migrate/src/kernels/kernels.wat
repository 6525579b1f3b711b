;; ferry86 hot kernels: CRC-32C over frames and the 128-bit page hash (digest/hash128.ts).
;; Compiled by scripts/build-kernels.mjs (wabt, SIMD enabled) into kernels-wasm.ts.
;;
;; Results must equal the JavaScript versions bit for bit: CRC values and page digests are part of
;; the on-disk format. test/kernels.test.ts checks both paths against each other.
;;
;; Memory layout (one fixed memory, never grown, so JS views of it stay valid):
;;   0x00000  T0..T7   CRC-32C slicing-by-8 tables, 8 x 256 x u32 (T_k[b]: CRC of b then k zeros)
;;   0x02000  NIB      32 x 16-byte i8x16.swizzle tables: "advance 64 zero bytes", nibble-wise
;;   0x02200  LANES    $crc's 16 lane registers, transposed (4 x v128)
;;   0x03000  OUT      page digests written by $hashPages (16 bytes per page, up to 3328 pages)
;;   0x10000  SCRATCH  1 MiB where JS copies the bytes to work on
(module
  (memory (export "memory") 17)

  ;; ------------------------------------------------------------------------------------------
  ;; CRC-32C (Castagnoli), reflected polynomial 0x82F63B78: RFC 3720 section 12.1 and B.4.
  ;;
  ;; WebAssembly has no CRC or carry-less multiply instruction. A table-driven CRC (slicing-by-8)
  ;; needs about four scalar instructions per byte. Instead the bulk runs 16 CRCs side by side in
  ;; the 16 byte lanes of v128 registers, using i8x16.swizzle as 16 parallel 4-bit table lookups:
  ;;
  ;; The raw CRC register update is linear over GF(2): the register after a message is the xor,
  ;; over every 32-bit little-endian word w at byte position P, of adv(w, N - P), where N is the
  ;; message length and adv(r, n) is the register r advanced over n zero bytes (the initial
  ;; register counts as xored into the first word). Cut the message into 64-byte blocks and let
  ;; one lane own word s of every block. Per lane keep U_s <- adv(U_s, 64) ^ w_s (Horner). At
  ;; the end the register is the CRC, from zero, of the 64-byte block whose word s is U_s.
  ;;
  ;; adv(., 64) is a fixed linear map of 32 bits = xor of 8 table lookups, one per 4-bit nibble;
  ;; each lookup yields 4 bytes, so 32 swizzles per 64-byte block with 16-entry tables (NIB).
  ;; U is held transposed: vector x_j has byte j of every lane's U_s, so a nibble of all 16 lanes
  ;; is one vector, and each data block is transposed the same way (byte j of word s -> d_j)
  ;; with i8x16.shuffle. WebAssembly SIMD: i8x16.swizzle, i8x16.shuffle, i16x8.shr_u.
  ;; Measured about 2.5x the JavaScript slicing-by-8 in V8 (see test/kernels.bench.ts).
  ;; ------------------------------------------------------------------------------------------

  (func $init
    (local $b i32) (local $c i32) (local $k i32) (local $n i32)
    ;; T0: the classic bytewise table.
    (loop $byte
      (local.set $c (local.get $b))
      (local.set $k (i32.const 8))
      (loop $bit
        ;; c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
        (local.set $c
          (i32.xor (i32.shr_u (local.get $c) (i32.const 1))
                   (i32.and (i32.const 0x82f63b78)
                            (i32.sub (i32.const 0) (i32.and (local.get $c) (i32.const 1))))))
        (br_if $bit (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
      (i32.store (i32.shl (local.get $b) (i32.const 2)) (local.get $c))
      (br_if $byte (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (i32.const 256))))
    ;; T1..T7: T_k[b] = T_{k-1}[b] advanced over one more zero byte.
    (local.set $b (i32.const 0))
    (loop $byte
      (local.set $c (i32.load (i32.shl (local.get $b) (i32.const 2))))
      (local.set $k (i32.const 1))
      (loop $slice
        (local.set $c (call $zero1 (local.get $c)))
        (i32.store (i32.add (i32.shl (local.get $k) (i32.const 10)) (i32.shl (local.get $b) (i32.const 2)))
                   (local.get $c))
        (br_if $slice (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 8))))
      (br_if $byte (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (i32.const 256))))
    ;; NIB[n][i][x] = byte i of adv(x << 4n, 64), at 0x2000 + 16 * (4n + i) + x.
    (local.set $n (i32.const 0))
    (loop $nibble
      (local.set $b (i32.const 0))
      (loop $value
        (local.set $c (i32.shl (local.get $b) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $k (i32.const 16))
        (loop $skip
          (local.set $c (call $zero4 (local.get $c)))
          (br_if $skip (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
        (local.set $k (i32.add (i32.add (i32.const 0x2000) (i32.shl (local.get $n) (i32.const 6))) (local.get $b)))
        (i32.store8 (local.get $k) (local.get $c))
        (i32.store8 offset=16 (local.get $k) (i32.shr_u (local.get $c) (i32.const 8)))
        (i32.store8 offset=32 (local.get $k) (i32.shr_u (local.get $c) (i32.const 16)))
        (i32.store8 offset=48 (local.get $k) (i32.shr_u (local.get $c) (i32.const 24)))
        (br_if $value (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (i32.const 16))))
      (br_if $nibble (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 1))) (i32.const 8)))))
  (start $init)

  ;; Register advanced over one zero byte.
  (func $zero1 (param $c i32) (result i32)
    (i32.xor (i32.load (i32.shl (i32.and (local.get $c) (i32.const 0xff)) (i32.const 2)))
             (i32.shr_u (local.get $c) (i32.const 8))))

  ;; Register advanced over four zero bytes: slicing-by-4 with a zero data word.
  (func $zero4 (param $c i32) (result i32)
    (i32.xor
      (i32.xor (i32.load offset=3072 (i32.and (i32.shl (local.get $c) (i32.const 2)) (i32.const 0x3fc)))
               (i32.load offset=2048 (i32.and (i32.shr_u (local.get $c) (i32.const 6)) (i32.const 0x3fc))))
      (i32.xor (i32.load offset=1024 (i32.and (i32.shr_u (local.get $c) (i32.const 14)) (i32.const 0x3fc)))
               (i32.load (i32.and (i32.shr_u (local.get $c) (i32.const 22)) (i32.const 0x3fc))))))

  ;; crc(ptr, len, crc): continues a finished CRC-32C `crc` over memory[ptr, ptr+len) and returns
  ;; the finished CRC, exactly like crc32c() in format/crc32c.ts. CLOBBERS the first 4 input
  ;; bytes when len >= 256 (the incoming register is folded into them).
  (func (export "crc") (param $p i32) (param $n i32) (param $crc i32) (result i32)
    (local $end i32) (local $c i32) (local $x i32) (local $y i32) (local $s i32) (local $j i32) (local $t i32)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local $n0 v128) (local $n1 v128) (local $n2 v128) (local $n3 v128)
    (local.set $c (i32.xor (local.get $crc) (i32.const -1)))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (if (i32.ge_u (local.get $n) (i32.const 256))
      (then
        ;; Fold the register into the first word; the lanes start from zero.
        (i32.store (local.get $p) (i32.xor (i32.load (local.get $p)) (local.get $c)))
        (v128.store offset=0x2200 (i32.const 0) (v128.const i64x2 0 0))
        (v128.store offset=0x2210 (i32.const 0) (v128.const i64x2 0 0))
        (v128.store offset=0x2220 (i32.const 0) (v128.const i64x2 0 0))
        (v128.store offset=0x2230 (i32.const 0) (v128.const i64x2 0 0))
        (loop $block
          ;; Transpose the block with byte interleaves only (i8x16.shuffle patterns that compile
          ;; to single unpack instructions): four rounds turn byte 4w+j of the block into lane
          ;; L(w) = 2*(w & 7) + (w >> 3) of d_j. Any lane order works if the final fold knows it.
          (local.set $d0 (v128.load offset=0 (local.get $p)))
          (local.set $d1 (v128.load offset=16 (local.get $p)))
          (local.set $d2 (v128.load offset=32 (local.get $p)))
          (local.set $d3 (v128.load offset=48 (local.get $p)))
          (local.set $n0 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $d0) (local.get $d1)))
          (local.set $n1 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $d0) (local.get $d1)))
          (local.set $n2 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $d2) (local.get $d3)))
          (local.set $n3 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $d2) (local.get $d3)))
          (local.set $d0 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $n0) (local.get $n1)))
          (local.set $d1 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $n0) (local.get $n1)))
          (local.set $d2 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $n2) (local.get $n3)))
          (local.set $d3 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $n2) (local.get $n3)))
          (local.set $n0 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $d0) (local.get $d1)))
          (local.set $n1 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $d0) (local.get $d1)))
          (local.set $n2 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $d2) (local.get $d3)))
          (local.set $n3 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $d2) (local.get $d3)))
          (local.set $d0 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $n0) (local.get $n2)))
          (local.set $d1 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $n0) (local.get $n2)))
          (local.set $d2 (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $n1) (local.get $n3)))
          (local.set $d3 (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $n1) (local.get $n3)))
          ;; d_i ^= byte i of adv(U, 64). For each byte j of U (vector x_j, kept in LANES), its
          ;; low and high nibbles index the NIB tables (i16x8.shr_u then masking = a per-byte
          ;; shift). A loop over j rather than unrolled code keeps few vectors live, so the
          ;; compiler does not spill them (measured: unrolled was slower).
          (local.set $j (i32.const 0))
          (loop $byte
            (local.set $n0 (v128.load offset=0x2200 (local.get $j)))
            (local.set $n1 (v128.and (i16x8.shr_u (local.get $n0) (i32.const 4)) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
            (local.set $n0 (v128.and (local.get $n0) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
            (local.set $t (i32.shl (local.get $j) (i32.const 3)))
            (local.set $d0 (v128.xor (local.get $d0)
              (v128.xor (i8x16.swizzle (v128.load offset=0x2000 (local.get $t)) (local.get $n0))
                        (i8x16.swizzle (v128.load offset=0x2040 (local.get $t)) (local.get $n1)))))
            (local.set $d1 (v128.xor (local.get $d1)
              (v128.xor (i8x16.swizzle (v128.load offset=0x2010 (local.get $t)) (local.get $n0))
                        (i8x16.swizzle (v128.load offset=0x2050 (local.get $t)) (local.get $n1)))))
            (local.set $d2 (v128.xor (local.get $d2)
              (v128.xor (i8x16.swizzle (v128.load offset=0x2020 (local.get $t)) (local.get $n0))
                        (i8x16.swizzle (v128.load offset=0x2060 (local.get $t)) (local.get $n1)))))
            (local.set $d3 (v128.xor (local.get $d3)
              (v128.xor (i8x16.swizzle (v128.load offset=0x2030 (local.get $t)) (local.get $n0))
                        (i8x16.swizzle (v128.load offset=0x2070 (local.get $t)) (local.get $n1)))))
            (br_if $byte (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (i32.const 64))))
          (v128.store offset=0x2200 (i32.const 0) (local.get $d0))
          (v128.store offset=0x2210 (i32.const 0) (local.get $d1))
          (v128.store offset=0x2220 (i32.const 0) (local.get $d2))
          (v128.store offset=0x2230 (i32.const 0) (local.get $d3))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (br_if $block (i32.ge_u (i32.sub (local.get $end) (local.get $p)) (i32.const 64))))
        ;; Register = CRC from zero over the block whose word s is U_s (Horner, 4 bytes a step);
        ;; U_s is in lane L(s) = 2*(s & 7) + (s >> 3).
        (local.set $c (i32.const 0))
        (loop $lane
          (local.set $j (i32.or (i32.shl (i32.and (local.get $s) (i32.const 7)) (i32.const 1))
                                (i32.shr_u (local.get $s) (i32.const 3))))
          (local.set $c
            (call $zero4
              (i32.xor (local.get $c)
                (i32.or
                  (i32.or (i32.load8_u offset=0x2200 (local.get $j))
                          (i32.shl (i32.load8_u offset=0x2210 (local.get $j)) (i32.const 8)))
                  (i32.or (i32.shl (i32.load8_u offset=0x2220 (local.get $j)) (i32.const 16))
                          (i32.shl (i32.load8_u offset=0x2230 (local.get $j)) (i32.const 24)))))))
          (br_if $lane (i32.lt_u (local.tee $s (i32.add (local.get $s) (i32.const 1))) (i32.const 16))))))
    ;; Remaining 8-byte words: slicing-by-8. lo = register ^ first word, hi = second word; table
    ;; addresses are byte*4, taken with one shift and one mask each.
    (block $wordsDone
      (loop $words
        (br_if $wordsDone (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 8)))
        (local.set $x (i32.xor (local.get $c) (i32.load (local.get $p))))
        (local.set $y (i32.load offset=4 (local.get $p)))
        (local.set $c
          (i32.xor
            (i32.xor
              (i32.xor (i32.load offset=7168 (i32.and (i32.shl (local.get $x) (i32.const 2)) (i32.const 0x3fc)))
                       (i32.load offset=6144 (i32.and (i32.shr_u (local.get $x) (i32.const 6)) (i32.const 0x3fc))))
              (i32.xor (i32.load offset=5120 (i32.and (i32.shr_u (local.get $x) (i32.const 14)) (i32.const 0x3fc)))
                       (i32.load offset=4096 (i32.and (i32.shr_u (local.get $x) (i32.const 22)) (i32.const 0x3fc)))))
            (i32.xor
              (i32.xor (i32.load offset=3072 (i32.and (i32.shl (local.get $y) (i32.const 2)) (i32.const 0x3fc)))
                       (i32.load offset=2048 (i32.and (i32.shr_u (local.get $y) (i32.const 6)) (i32.const 0x3fc))))
              (i32.xor (i32.load offset=1024 (i32.and (i32.shr_u (local.get $y) (i32.const 14)) (i32.const 0x3fc)))
                       (i32.load (i32.and (i32.shr_u (local.get $y) (i32.const 22)) (i32.const 0x3fc)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $words)))
    ;; Tail bytes.
    (block $bytesDone
      (loop $bytes
        (br_if $bytesDone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (call $zero1 (i32.xor (local.get $c) (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (i32.xor (local.get $c) (i32.const -1)))

  ;; ------------------------------------------------------------------------------------------
  ;; Page hash: hashWords(words, start, 1024, 4096, out, off) of hash128.ts, 8 pages at a time.
  ;;
  ;; Within one page the four lanes a, b, c, d are chained after every 16-byte stripe, so one page
  ;; is a serial dependency chain. Four DIFFERENT pages are independent, so vector lane k holds
  ;; page k's a (resp. b, c, d) and every scalar step becomes one i32x4 instruction (WebAssembly
  ;; SIMD: i32x4.mul / add / shl / shr_u, v128.xor / or). Each stripe loads one v128 per page and
  ;; transposes each 4x4 block of words with i8x16.shuffle (compiled to unpack instructions) so
  ;; that one vector holds word 0 of four pages' stripes, the next word 1, and so on. Same
  ;; arithmetic per lane, hence the same digests. Two such sets of four pages run interleaved:
  ;; one set alone waits on its multiply chain (measured 13.5 vs 17 GB/s for two sets).
  ;; ------------------------------------------------------------------------------------------

  ;; Finaliser half-step: (x ^ (x >>> s)) * m.
  (func $xsm (param $x v128) (param $s i32) (param $m v128) (result v128)
    (i32x4.mul (v128.xor (local.get $x) (i32x4.shr_u (local.get $x) (local.get $s))) (local.get $m)))

  ;; fmix32 (xxHash/murmur3 avalanche) on four lanes.
  (func $fmix (param $h v128) (result v128)
    (local.set $h (call $xsm (local.get $h) (i32.const 16) (v128.const i32x4 0x85ebca6b 0x85ebca6b 0x85ebca6b 0x85ebca6b)))
    (local.set $h (call $xsm (local.get $h) (i32.const 13) (v128.const i32x4 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35)))
    (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const 16))))

  ;; Finaliser for four pages (lane k = page k): length, two cross-lane rounds, fmix32 of each
  ;; lane, then transpose back so the digest of page k = [a.k b.k c.k d.k] lands at out + 16k.
  (func $finish (param $a v128) (param $b v128) (param $c v128) (param $d v128) (param $out i32)
    (local $r i32) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    ;; Length 4096 into a (b ^= 0 for the high half is a no-op).
    (local.set $a (v128.xor (local.get $a) (v128.const i32x4 4096 4096 4096 4096)))
    (local.set $r (i32.const 2))
    (loop $mix
      (local.set $a (i32x4.add (call $xsm (local.get $a) (i32.const 16) (v128.const i32x4 0x85ebca6b 0x85ebca6b 0x85ebca6b 0x85ebca6b)) (local.get $d)))
      (local.set $b (i32x4.add (call $xsm (local.get $b) (i32.const 13) (v128.const i32x4 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35)) (local.get $a)))
      (local.set $c (i32x4.add (call $xsm (local.get $c) (i32.const 16) (v128.const i32x4 0x85ebca6b 0x85ebca6b 0x85ebca6b 0x85ebca6b)) (local.get $b)))
      (local.set $d (i32x4.add (call $xsm (local.get $d) (i32.const 13) (v128.const i32x4 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35 0xc2b2ae35)) (local.get $c)))
      (br_if $mix (local.tee $r (i32.sub (local.get $r) (i32.const 1)))))
    (local.set $a (call $fmix (local.get $a)))
    (local.set $b (call $fmix (local.get $b)))
    (local.set $c (call $fmix (local.get $c)))
    (local.set $d (call $fmix (local.get $d)))
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $d)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $d)))
    (v128.store (local.get $out)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
    (v128.store offset=16 (local.get $out)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
    (v128.store offset=32 (local.get $out)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
    (v128.store offset=48 (local.get $out)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))))

  ;; hashPages(src, n, out): pages i = 0..n-1 lie at src + 4096*i (any alignment); digest i goes
  ;; to out + 16*i as four little-endian u32 (a, b, c, d). Works in groups of 8 pages (two
  ;; independent sets of 4 lanes, so one set's multiply latency hides behind the other's work):
  ;; when n is not a multiple of 8 it also hashes whatever lies in the next pages, reading up to
  ;; src + 4096*roundup8(n) and writing digests up to out + 16*roundup8(n).
  (func (export "hashPages") (param $src i32) (param $n i32) (param $out i32)
    (local $q i32) (local $end i32)
    (local $a0 v128) (local $b0 v128) (local $c0 v128) (local $d0 v128)
    (local $a1 v128) (local $b1 v128) (local $c1 v128) (local $d1 v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (if (i32.eqz (local.get $n)) (then (return)))
    (loop $group
      (local.set $a0 (v128.const i32x4 0x243f6a88 0x243f6a88 0x243f6a88 0x243f6a88))
      (local.set $b0 (v128.const i32x4 0x85a308d3 0x85a308d3 0x85a308d3 0x85a308d3))
      (local.set $c0 (v128.const i32x4 0x13198a2e 0x13198a2e 0x13198a2e 0x13198a2e))
      (local.set $d0 (v128.const i32x4 0x03707344 0x03707344 0x03707344 0x03707344))
      (local.set $a1 (v128.const i32x4 0x243f6a88 0x243f6a88 0x243f6a88 0x243f6a88))
      (local.set $b1 (v128.const i32x4 0x85a308d3 0x85a308d3 0x85a308d3 0x85a308d3))
      (local.set $c1 (v128.const i32x4 0x13198a2e 0x13198a2e 0x13198a2e 0x13198a2e))
      (local.set $d1 (v128.const i32x4 0x03707344 0x03707344 0x03707344 0x03707344))
      (local.set $q (local.get $src))
      (local.set $end (i32.add (local.get $src) (i32.const 4096)))
      (loop $stripe
        ;; pages 0..3: transpose the 4x4 block of words so that word j of every page's stripe
        ;; is one vector, absorb (x = rotl32(x + w*M2, 13) * M1), chain (a += d; b += a; ...)
        (local.set $v0 (v128.load offset=0 (local.get $q)))
        (local.set $v1 (v128.load offset=4096 (local.get $q)))
        (local.set $v2 (v128.load offset=8192 (local.get $q)))
        (local.set $v3 (v128.load offset=12288 (local.get $q)))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $a0 (i32x4.mul (v128.or (i32x4.shl (local.get $a0) (i32.const 13)) (i32x4.shr_u (local.get $a0) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $b0 (i32x4.add (local.get $b0) (i32x4.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $b0 (i32x4.mul (v128.or (i32x4.shl (local.get $b0) (i32.const 13)) (i32x4.shr_u (local.get $b0) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $c0 (i32x4.add (local.get $c0) (i32x4.mul (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $c0 (i32x4.mul (v128.or (i32x4.shl (local.get $c0) (i32.const 13)) (i32x4.shr_u (local.get $c0) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $d0 (i32x4.add (local.get $d0) (i32x4.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $d0 (i32x4.mul (v128.or (i32x4.shl (local.get $d0) (i32.const 13)) (i32x4.shr_u (local.get $d0) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $a0 (i32x4.add (local.get $a0) (local.get $d0)))
        (local.set $b0 (i32x4.add (local.get $b0) (local.get $a0)))
        (local.set $c0 (i32x4.add (local.get $c0) (local.get $b0)))
        (local.set $d0 (i32x4.add (local.get $d0) (local.get $c0)))
        ;; pages 4..7: transpose the 4x4 block of words, absorb, chain
        (local.set $v0 (v128.load offset=16384 (local.get $q)))
        (local.set $v1 (v128.load offset=20480 (local.get $q)))
        (local.set $v2 (v128.load offset=24576 (local.get $q)))
        (local.set $v3 (v128.load offset=28672 (local.get $q)))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $a1 (i32x4.mul (v128.or (i32x4.shl (local.get $a1) (i32.const 13)) (i32x4.shr_u (local.get $a1) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $b1 (i32x4.add (local.get $b1) (i32x4.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $b1 (i32x4.mul (v128.or (i32x4.shl (local.get $b1) (i32.const 13)) (i32x4.shr_u (local.get $b1) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $c1 (i32x4.add (local.get $c1) (i32x4.mul (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $c1 (i32x4.mul (v128.or (i32x4.shl (local.get $c1) (i32.const 13)) (i32x4.shr_u (local.get $c1) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $d1 (i32x4.add (local.get $d1) (i32x4.mul (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)) (v128.const i32x4 0x85ebca77 0x85ebca77 0x85ebca77 0x85ebca77))))
        (local.set $d1 (i32x4.mul (v128.or (i32x4.shl (local.get $d1) (i32.const 13)) (i32x4.shr_u (local.get $d1) (i32.const 19))) (v128.const i32x4 0x9e3779b1 0x9e3779b1 0x9e3779b1 0x9e3779b1)))
        (local.set $a1 (i32x4.add (local.get $a1) (local.get $d1)))
        (local.set $b1 (i32x4.add (local.get $b1) (local.get $a1)))
        (local.set $c1 (i32x4.add (local.get $c1) (local.get $b1)))
        (local.set $d1 (i32x4.add (local.get $d1) (local.get $c1)))
        (br_if $stripe (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 16))) (local.get $end))))
      (call $finish (local.get $a0) (local.get $b0) (local.get $c0) (local.get $d0) (local.get $out))
      (call $finish (local.get $a1) (local.get $b1) (local.get $c1) (local.get $d1) (i32.add (local.get $out) (i32.const 64)))
      (local.set $out (i32.add (local.get $out) (i32.const 128)))
      (local.set $src (i32.add (local.get $src) (i32.const 32768)))
      (br_if $group (i32.gt_s (local.tee $n (i32.sub (local.get $n) (i32.const 8))) (i32.const 0)))))

)
