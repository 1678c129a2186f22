"""Binary data as page text: varints for small integers, and base85 text that is inert wherever it lands.

The exported page carries its tiles and events deflated; base64 made them a third longer, these 85
characters a quarter. The alphabet is printable ASCII without `"`, `'`, `\\`, `<`, `>`, `&`, `{`, `}`
and the backtick: the text can sit in a JS string, an HTML attribute or <script> element, and a
template folium renders again as Jinja, and never end, escape or open anything. Groups of four bytes
(big-endian) become five digits, most significant first; a last group of r < 4 bytes becomes r + 1
digits (ascii85's rule). The pages' scripts decode it (`bytes85` in reachmap-basemap.js and bulk.py).
"""

from __future__ import annotations

import numpy as np

ALPHABET = "!#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz|~"
_CODES = np.frombuffer(ALPHABET.encode("ascii"), np.uint8)
_DIGITS = np.full(128, 255, np.uint8)
_DIGITS[_CODES] = np.arange(85, dtype=np.uint8)


def text85(data: bytes) -> str:
    """`data` as base85 text in ALPHABET (five characters for every four bytes)."""
    pad = -len(data) % 4
    v = np.frombuffer(data + b"\0" * pad, ">u4").astype(np.int64)
    digits = np.empty((len(v), 5), np.uint8)
    for k in range(4, -1, -1):
        digits[:, k] = v % 85
        v //= 85
    chars = _CODES[digits].reshape(-1)
    return chars[:len(chars) - pad].tobytes().decode("ascii")


def bytes85(text: str) -> bytes:
    """The bytes of `text85` output; ValueError for a character outside the alphabet."""
    raw = np.frombuffer(text.encode("ascii"), np.uint8)
    if len(raw) % 5 == 1:
        raise ValueError("base85 text: a last group of one character holds no byte")
    digits = _DIGITS[raw] if len(raw) and raw.max() < 128 else np.full(len(raw), 255, np.uint8)
    if (digits == 255).any():
        raise ValueError("base85 text: a character outside the alphabet")
    pad = -len(digits) % 5
    digits = np.concatenate([digits, np.full(pad, 84, np.uint8)]).reshape(-1, 5).astype(np.int64)
    v = np.zeros(len(digits), np.int64)
    for k in range(5):
        v = v * 85 + digits[:, k]
    out = (v & 0xFFFFFFFF).astype(">u4").tobytes()
    return out[:len(out) - pad]


def varints(values: np.ndarray) -> bytes:
    """Signed integers as zigzag LEB128 varints (7 bits a byte, low first; most deltas take one byte)."""
    z = (values.astype(np.int64) << 1) ^ (values.astype(np.int64) >> 63)
    length = np.ones(len(z), np.int64)
    for k in range(1, 9):  # up to 2**56: coordinates, deltas and ids' numbers are far below
        length += z >= (1 << (7 * k))
    ends = np.cumsum(length)
    out = np.zeros(int(ends[-1]) if len(z) else 0, np.uint8)
    starts = ends - length
    for k in range(int(length.max()) if len(z) else 0):
        has = length > k
        byte = (z[has] >> (7 * k)) & 0x7F
        out[starts[has] + k] = byte | np.where(length[has] > k + 1, 0x80, 0)
    return out.tobytes()
