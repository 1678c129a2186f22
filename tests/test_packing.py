"""Binary as page text: base85 that is inert in HTML, JS strings and Jinja, and zigzag varints."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dashboard.mapview import packing
from dashboard.mapview.basemap import BASEMAP_DIR
from dashboard.mapview.bulk import _LIBRARY


def test_the_alphabet_has_85_characters_none_of_which_can_end_or_open_anything():
    assert len(set(packing.ALPHABET)) == len(packing.ALPHABET) == 85
    assert not set(packing.ALPHABET) & set("\"'\\<>&{}` \n\r\t")
    assert all(33 <= ord(c) < 127 for c in packing.ALPHABET)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 1000, 4097])
def test_base85_round_trips_every_length(n):
    data = random.Random(n).randbytes(n)
    text = packing.text85(data)
    assert len(text) == n + (n + 3) // 4 and packing.bytes85(text) == data


def test_base85_of_extreme_bytes_and_a_bad_character():
    for data in (b"\0" * 9, b"\xff" * 9, b"\xff\xff\xff\xfe\x00"):
        assert packing.bytes85(packing.text85(data)) == data
    with pytest.raises(ValueError):
        packing.bytes85("ab<cd")


def test_both_page_scripts_decode_with_the_same_alphabet():
    script = (BASEMAP_DIR / "reachmap-basemap.js").read_text(encoding="utf-8")
    assert f'var ALPHABET = "{packing.ALPHABET}";' in script
    assert f'var ALPHABET = "{packing.ALPHABET}";' in _LIBRARY


def test_varints_are_zigzag_leb128():
    assert packing.varints(np.array([0, -1, 1, -64, 63, 64, 300, -300])) == bytes(
        [0, 1, 2, 127, 126, 0x80, 1, 0xD8, 4, 0xD7, 4])
