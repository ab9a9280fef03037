#!/usr/bin/env python3
"""Regenerates the expected float outputs in `floats.rs` (run by hand; tests never call Python).

The bit patterns come from the same splitmix64 stream as `float_patterns()` in `floats.rs`.
Prints the count, an FNV-1a 64 hash of every `json.dumps(x)` joined by newlines, and a table of
the first TABLE entries as Rust literals.
"""
import json
import struct

MASK = (1 << 64) - 1
COUNT = 20000
TABLE = 300


def splitmix64(state):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def from_bits(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def to_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def patterns():
    rng = splitmix64(0x0515_1E55)
    for _ in range(COUNT):
        r = next(rng)
        kind = r % 6
        a = next(rng)
        b = next(rng)
        if kind == 0:  # any bits
            yield a
        elif kind == 1:  # decimal-looking: up to 17 significant digits, exponent -30..30
            digits = 1 + b % 17
            k = a % (10 ** digits)
            e = (b >> 8) % 61 - 30
            yield to_bits(float(f"{k}e{e}"))
        elif kind == 2:  # integers of up to 64 bits
            yield to_bits(float(str(a >> (b % 64))))
        elif kind == 3:  # a few ulps around a power of ten
            base = to_bits(float(f"1e{b % 61 - 30}"))
            yield (base + (a % 7) - 3) & MASK
        elif kind == 4:  # subnormals
            yield a & ((1 << 52) - 1)
        else:  # short decimals, where shortest-digit selection matters most
            k = a % 100000
            e = b % 41 - 20
            yield to_bits(float(f"{k}e{e}"))


def fnv1a(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & MASK
    return h


outputs = []
table = []
for bits in patterns():
    text = json.dumps(from_bits(bits))
    outputs.append(text)
    if len(table) < TABLE:
        table.append((bits, text))

print(f"const PATTERN_COUNT: usize = {COUNT};")
print(f"const PYTHON_HASH: u64 = {fnv1a(chr(10).join(outputs).encode()):#018x};")
print("const PYTHON_TABLE: &[(u64, &str)] = &[")
for bits, text in table:
    print(f"    ({bits:#018x}, {text!r}),".replace("'", '"'))
print("];")
