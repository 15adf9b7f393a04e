;; Truncated normal samples for new parameters' initial values (rewrite/init.ts), bit for bit the
;; values of prng.ts: fillNormal, then each value beyond the limit redrawn with nextNormal, in order.
;; The same xoshiro128** stream, the same polar method and the same lnUnit series, in the same IEEE
;; double operations (+ - * / sqrt, each correctly rounded; no fused multiply-add), rounded to float32
;; the same way. test/util/normal-wasm.test.ts compares the two bit for bit.
;;
;; Why WebAssembly: drawing BERT-base's 48 adapter matrices (2.4 M values) took 60-90 ms of a
;; compile's main thread in JavaScript, most of it waiting on dependent divisions and square roots,
;; one pair at a time, and on mispredicted branches. Here the accepted pairs are collected first and
;; then transformed two at a time (f64x2) without branches, and the code is native from the first call
;; instead of interpreted until V8 optimizes it.
;;
;; scripts/build-wasm.mjs assembles this file (wabt) into src/util/normal-wasm.generated.ts.
;;
;; Memory (bytes):
;;   UNIFORMS  0       16384 uniforms in (-1, 1), f64: two per candidate pair
;;   U, V, S   131072  accepted pairs (u, v, s = u² + v²), f64, 8192 of each, at 131072, 196608, 262144
;;   OUT       327680  the values, f32; the caller grows the memory to fit them (and 16 bytes more)
(module
  (memory (export "memory") 5)

  ;; The generator's state; the caller sets it before drawing and reads it back after.
  (global $s0 (export "s0") (mut i32) (i32.const 0))
  (global $s1 (export "s1") (mut i32) (i32.const 0))
  (global $s2 (export "s2") (mut i32) (i32.const 0))
  (global $s3 (export "s3") (mut i32) (i32.const 0))

  ;; UNIFORMS[0 .. count): xoshiro128** outputs r as (r + 0.5) * 2^-31 - 1 (prng.ts, fillNormal).
  (func $uniforms (param $count i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $r i32) (local $t i32) (local $at i32) (local $end i32)
    (local.set $a0 (global.get $s0)) (local.set $a1 (global.get $s1)) (local.set $a2 (global.get $s2)) (local.set $a3 (global.get $s3))
    (local.set $end (i32.shl (local.get $count) (i32.const 3)))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (local.set $r (i32.mul (i32.rotl (i32.mul (local.get $a1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
      (local.set $t (i32.shl (local.get $a1) (i32.const 9)))
      (local.set $a2 (i32.xor (local.get $a2) (local.get $a0)))
      (local.set $a3 (i32.xor (local.get $a3) (local.get $a1)))
      (local.set $a1 (i32.xor (local.get $a1) (local.get $a2)))
      (local.set $a0 (i32.xor (local.get $a0) (local.get $a3)))
      (local.set $a2 (i32.xor (local.get $a2) (local.get $t)))
      (local.set $a3 (i32.rotl (local.get $a3) (i32.const 11)))
      (f64.store (local.get $at)
        (f64.sub (f64.mul (f64.add (f64.convert_i32_u (local.get $r)) (f64.const 0.5)) (f64.const 0x1p-31)) (f64.const 1)))
      (local.set $at (i32.add (local.get $at) (i32.const 8)))
      (br $each)))
    (global.set $s0 (local.get $a0)) (global.set $s1 (local.get $a1)) (global.set $s2 (local.get $a2)) (global.set $s3 (local.get $a3)))

  ;; std * sqrt(-2 lnUnit(s) / s) for two values of s in (0, 1): the polar method's scale.
  ;; lnUnit doubles m = s until m >= sqrt(1/2), e counting down; here m and e come from s's exponent
  ;; and mantissa instead: s = m1 * 2^E with m1 in [1, 2) gives m = m1 / 2, e = E + 1 when that is at
  ;; least sqrt(1/2), else m = m1, e = E (both exact, so the same m and e as the loop's).
  (func $scale (param $s v128) (param $std f64) (result v128)
    (local $m1 v128) (local $half v128) (local $big v128) (local $m v128) (local $e v128) (local $f v128) (local $f2 v128) (local $t v128)
    (local.set $m1 (v128.or
      (v128.and (local.get $s) (v128.const i64x2 0x000FFFFFFFFFFFFF 0x000FFFFFFFFFFFFF))
      (v128.const i64x2 0x3FF0000000000000 0x3FF0000000000000)))
    (local.set $e (f64x2.convert_low_i32x4_s (i32x4.sub
      (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 0 1 2 3 (i64x2.shr_u (local.get $s) (i32.const 52)) (local.get $s))
      (v128.const i32x4 1023 1023 0 0))))
    (local.set $half (f64x2.mul (local.get $m1) (f64x2.splat (f64.const 0.5))))
    (local.set $big (f64x2.ge (local.get $half) (f64x2.splat (f64.const 0x1.6a09e667f3bcdp-1)))) ;; SQRT_HALF
    (local.set $m (v128.bitselect (local.get $half) (local.get $m1) (local.get $big)))
    (local.set $e (v128.bitselect (f64x2.add (local.get $e) (f64x2.splat (f64.const 1))) (local.get $e) (local.get $big)))
    ;; f = (m - 1) / (m + 1); series = 1 + f2 (1/3 + f2 (1/5 + ... (1/13 + f2 / 15)))
    (local.set $f (f64x2.div (f64x2.sub (local.get $m) (f64x2.splat (f64.const 1))) (f64x2.add (local.get $m) (f64x2.splat (f64.const 1)))))
    (local.set $f2 (f64x2.mul (local.get $f) (local.get $f)))
    (local.set $t (f64x2.add (f64x2.splat (f64.const 0x1.3b13b13b13b14p-4)) (f64x2.div (local.get $f2) (f64x2.splat (f64.const 15))))) ;; 1/13
    (local.set $t (f64x2.add (f64x2.splat (f64.const 0x1.745d1745d1746p-4)) (f64x2.mul (local.get $f2) (local.get $t)))) ;; 1/11
    (local.set $t (f64x2.add (f64x2.splat (f64.const 0x1.c71c71c71c71cp-4)) (f64x2.mul (local.get $f2) (local.get $t)))) ;; 1/9
    (local.set $t (f64x2.add (f64x2.splat (f64.const 0x1.2492492492492p-3)) (f64x2.mul (local.get $f2) (local.get $t)))) ;; 1/7
    (local.set $t (f64x2.add (f64x2.splat (f64.const 0x1.999999999999ap-3)) (f64x2.mul (local.get $f2) (local.get $t)))) ;; 1/5
    (local.set $t (f64x2.add (f64x2.splat (f64.const 0x1.5555555555555p-2)) (f64x2.mul (local.get $f2) (local.get $t)))) ;; 1/3
    (local.set $t (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (local.get $f2) (local.get $t))))
    ;; ln s = e LN2 + 2 f series
    (local.set $t (f64x2.add
      (f64x2.mul (local.get $e) (f64x2.splat (f64.const 0x1.62e42fefa39efp-1)))
      (f64x2.mul (f64x2.mul (f64x2.splat (f64.const 2)) (local.get $f)) (local.get $t))))
    (f64x2.mul (f64x2.splat (local.get $std))
      (f64x2.sqrt (f64x2.div (f64x2.mul (f64x2.splat (f64.const -2)) (local.get $t)) (local.get $s)))))

  ;; OUT[0 .. count) = fillNormal's values, in batches of up to 8192 pairs: first the accepted pairs
  ;; (candidates drawn only as many as pairs are still missing, so the stream is used exactly as
  ;; fillNormal uses it), then their values two pairs at a time. An odd count's last v is dropped, as
  ;; fillNormal drops it (it is written past the end, where the caller leaves room).
  (func (export "fill") (param $count i32) (param $std f64)
    (local $pairs i32) (local $batch i32) (local $accepted i32) (local $c i32) (local $at i32) (local $end i32) (local $out i32)
    (local $u f64) (local $v f64) (local $s f64) (local $scale v128)
    (local.set $pairs (i32.shr_u (i32.add (local.get $count) (i32.const 1)) (i32.const 1)))
    (local.set $out (i32.const 327680))
    (block $done (loop $batches
      (br_if $done (i32.eqz (local.get $pairs)))
      (local.set $batch (select (i32.const 8192) (local.get $pairs) (i32.gt_u (local.get $pairs) (i32.const 8192))))
      ;; accepted pairs: stored at the next slot, which moves on when s is in (0, 1)
      (local.set $accepted (i32.const 0))
      (block $full (loop $candidates
        (br_if $full (i32.ge_u (local.get $accepted) (local.get $batch)))
        (local.set $end (i32.sub (local.get $batch) (local.get $accepted)))
        (call $uniforms (i32.shl (local.get $end) (i32.const 1)))
        (local.set $end (i32.shl (local.get $end) (i32.const 4)))
        (local.set $c (i32.const 0))
        (block $drawn (loop $each
          (br_if $drawn (i32.ge_u (local.get $c) (local.get $end)))
          (local.set $u (f64.load (local.get $c)))
          (local.set $v (f64.load offset=8 (local.get $c)))
          (local.set $s (f64.add (f64.mul (local.get $u) (local.get $u)) (f64.mul (local.get $v) (local.get $v))))
          (local.set $at (i32.shl (local.get $accepted) (i32.const 3)))
          (f64.store offset=131072 (local.get $at) (local.get $u))
          (f64.store offset=196608 (local.get $at) (local.get $v))
          (f64.store offset=262144 (local.get $at) (local.get $s))
          (local.set $accepted (i32.add (local.get $accepted)
            (i32.and (f64.lt (local.get $s) (f64.const 1)) (f64.ne (local.get $s) (f64.const 0)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $each)))
        (br $candidates)))
      ;; values: u scale, v scale for two pairs, rounded to float32 and stored as u0 v0 u1 v1
      (local.set $at (i32.const 0))
      (local.set $end (i32.shl (local.get $batch) (i32.const 3)))
      (block $stored (loop $each
        (br_if $stored (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $scale (call $scale (v128.load offset=262144 (local.get $at)) (local.get $std)))
        (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.mul (v128.load offset=131072 (local.get $at)) (local.get $scale)))
          (f32x4.demote_f64x2_zero (f64x2.mul (v128.load offset=196608 (local.get $at)) (local.get $scale)))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $each)))
      (local.set $out (i32.sub (local.get $out) (i32.sub (local.get $at) (local.get $end))))
      (local.set $pairs (i32.sub (local.get $pairs) (local.get $batch)))
      (br $batches))))

  ;; nextNormal: the first accepted pair's u value, rounded to float32.
  (func $nextNormal (param $std f64) (result f32)
    (local $u f64) (local $v f64) (local $s f64)
    (loop $draw
      (call $uniforms (i32.const 2))
      (local.set $u (f64.load (i32.const 0)))
      (local.set $v (f64.load (i32.const 8)))
      (local.set $s (f64.add (f64.mul (local.get $u) (local.get $u)) (f64.mul (local.get $v) (local.get $v))))
      (br_if $draw (i32.or (f64.ge (local.get $s) (f64.const 1)) (f64.eq (local.get $s) (f64.const 0)))))
    (f32.demote_f64 (f64.mul (local.get $u) (f64x2.extract_lane 0 (call $scale (f64x2.splat (local.get $s)) (local.get $std))))))

  ;; Each of OUT[0 .. count) beyond ±limit redrawn with nextNormal until it is not, in order.
  (func (export "truncate") (param $count i32) (param $std f64) (param $limit f64)
    (local $at i32) (local $end i32) (local $x f32)
    (local.set $at (i32.const 327680))
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (local.set $x (f32.load (local.get $at)))
      (if (f64.gt (f64.abs (f64.promote_f32 (local.get $x))) (local.get $limit)) (then
        (loop $redraw
          (local.set $x (call $nextNormal (local.get $std)))
          (br_if $redraw (f64.gt (f64.abs (f64.promote_f32 (local.get $x))) (local.get $limit))))
        (f32.store (local.get $at) (local.get $x))))
      (local.set $at (i32.add (local.get $at) (i32.const 4)))
      (br $each))))
)
