"""Intset: exact layout, width upgrades, validation, and a model test against a Python set."""

from __future__ import annotations

import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from tracered.intset import (
    INTSET_ENC_INT16,
    INTSET_ENC_INT32,
    INTSET_ENC_INT64,
    intset_add,
    intset_blob_len,
    intset_encoding,
    intset_find,
    intset_get,
    intset_len,
    intset_max,
    intset_min,
    intset_new,
    intset_random,
    intset_remove,
    intset_search,
    intset_to_list,
    intset_validate_integrity,
    intset_value_encoding,
)


def build(values):
    is_ = intset_new()
    for v in values:
        is_, _ = intset_add(is_, v)
    return is_


def test_new_and_first_add_exact_bytes():
    is_ = intset_new()
    assert bytes(is_) == b"\x02\x00\x00\x00\x00\x00\x00\x00"
    same, added = intset_add(is_, 5)
    assert same is is_ and added
    assert bytes(is_) == b"\x02\x00\x00\x00\x01\x00\x00\x00\x05\x00"
    _, added = intset_add(is_, 5)
    assert not added and intset_len(is_) == 1
    intset_add(is_, -2)
    intset_add(is_, 300)
    assert bytes(is_) == struct.pack("<II3h", 2, 3, -2, 5, 300)


def test_value_encoding_boundaries():
    assert intset_value_encoding(-32768) == INTSET_ENC_INT16
    assert intset_value_encoding(32767) == INTSET_ENC_INT16
    assert intset_value_encoding(-32769) == INTSET_ENC_INT32
    assert intset_value_encoding(32768) == INTSET_ENC_INT32
    assert intset_value_encoding(-(2**31)) == INTSET_ENC_INT32
    assert intset_value_encoding(2**31 - 1) == INTSET_ENC_INT32
    assert intset_value_encoding(-(2**31) - 1) == INTSET_ENC_INT64
    assert intset_value_encoding(2**31) == INTSET_ENC_INT64
    assert intset_value_encoding(-(2**63)) == INTSET_ENC_INT64
    assert intset_value_encoding(2**63 - 1) == INTSET_ENC_INT64


def test_upgrade_16_32_64_exact_bytes():
    is_ = build([1, 2, 3])
    assert intset_blob_len(is_) == 8 + 3 * 2 == len(is_)
    intset_add(is_, 65536)                 # needs 32 bits: appended
    assert intset_encoding(is_) == INTSET_ENC_INT32
    assert bytes(is_) == struct.pack("<II4i", 4, 4, 1, 2, 3, 65536)
    intset_add(is_, -40000)                # 32 bits, negative: a normal insert at the front
    assert bytes(is_) == struct.pack("<II5i", 4, 5, -40000, 1, 2, 3, 65536)
    intset_add(is_, -(2**40))              # needs 64 bits, negative: prepended on upgrade
    assert intset_encoding(is_) == INTSET_ENC_INT64
    assert bytes(is_) == struct.pack("<II6q", 8, 6, -(2**40), -40000, 1, 2, 3, 65536)
    assert intset_blob_len(is_) == 8 + 6 * 8 == len(is_)
    # Removing the wide values never downgrades.
    intset_remove(is_, -(2**40))
    intset_remove(is_, 65536)
    intset_remove(is_, -40000)
    assert bytes(is_) == struct.pack("<II3q", 8, 3, 1, 2, 3)


def test_search_find_get_remove():
    is_ = build([10, -5, 7, 1000, 3])
    assert intset_to_list(is_) == [-5, 3, 7, 10, 1000]
    assert intset_search(is_, 7) == (True, 2)
    assert intset_search(is_, 8) == (False, 3)
    assert intset_search(is_, -100) == (False, 0)
    assert intset_search(is_, 5000) == (False, 5)
    assert intset_find(is_, 1000) and not intset_find(is_, 2**40) and not intset_find(is_, 4)
    assert [intset_get(is_, i) for i in range(6)] == [-5, 3, 7, 10, 1000, None]
    assert intset_get(is_, -1) is None
    assert intset_min(is_) == -5 and intset_max(is_) == 1000
    _, removed = intset_remove(is_, 2**40)   # wider than the encoding: cannot be there
    assert not removed
    _, removed = intset_remove(is_, 7)
    assert removed and intset_to_list(is_) == [-5, 3, 10, 1000]
    _, removed = intset_remove(is_, 7)
    assert not removed
    random.seed(3)
    assert {intset_random(is_) for _ in range(200)} == {-5, 3, 10, 1000}


def test_validate_integrity():
    good = build([1, 2, 3])
    assert intset_validate_integrity(good, True)
    assert not intset_validate_integrity(intset_new(), False)           # empty is invalid
    assert not intset_validate_integrity(good[:-1], False)              # size mismatch
    assert not intset_validate_integrity(b"\x03" + bytes(good[1:]), False)  # bad encoding
    unsorted = struct.pack("<II3h", 2, 3, 1, 3, 2)
    assert intset_validate_integrity(unsorted, False)
    assert not intset_validate_integrity(unsorted, True)
    dup = struct.pack("<II3h", 2, 3, 1, 2, 2)
    assert not intset_validate_integrity(dup, True)
    assert intset_validate_integrity(bytes(good) + b"junk", True, size=len(good))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.one_of(
    st.integers(-50, 50),
    st.integers(-(2**15) - 5, 2**15 + 5),
    st.integers(-(2**31) - 5, 2**31 + 5),
    st.integers(-(2**63), 2**63 - 1))), max_size=60))
def test_model_against_python_set(ops):
    is_ = intset_new()
    model: set[int] = set()
    widest = INTSET_ENC_INT16
    for add, v in ops:
        if add:
            is_, added = intset_add(is_, v)
            assert added == (v not in model)
            model.add(v)
            widest = max(widest, intset_value_encoding(v))
        else:
            is_, removed = intset_remove(is_, v)
            assert removed == (v in model)
            model.discard(v)
        assert intset_len(is_) == len(model)
    assert intset_to_list(is_) == sorted(model)
    assert intset_encoding(is_) == widest
    assert len(is_) == intset_blob_len(is_)
    for v in list(model)[:10]:
        assert intset_find(is_, v)
    if model:
        assert intset_validate_integrity(is_, True)
        assert intset_min(is_) == min(model) and intset_max(is_) == max(model)
