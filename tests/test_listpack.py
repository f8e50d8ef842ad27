"""Listpack: exact bytes from the format description, edge encodings, and a model test."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracered.listpack import (
    LP_AFTER,
    LP_BEFORE,
    LP_HDR_NUMELE_UNKNOWN,
    LP_HDR_SIZE,
    LP_REPLACE,
    lp_append,
    lp_append_integer,
    lp_build,
    lp_bytes,
    lp_compare,
    lp_decode_backlen,
    lp_delete,
    lp_delete_range,
    lp_delete_range_with_entry,
    lp_encode_backlen,
    lp_find,
    lp_first,
    lp_get,
    lp_get_bytes,
    lp_get_with_size,
    lp_insert,
    lp_iter,
    lp_last,
    lp_length,
    lp_merge,
    lp_new,
    lp_next,
    lp_prepend,
    lp_prepend_integer,
    lp_prev,
    lp_random_pair,
    lp_random_pairs,
    lp_random_pairs_unique,
    lp_replace,
    lp_repr,
    lp_safe_to_add,
    lp_seek,
    lp_string_to_int64,
    lp_to_list,
    lp_validate_integrity,
)


def offsets(lp: bytearray) -> list[int]:
    out = []
    p = lp_first(lp)
    while p is not None:
        out.append(p)
        p = lp_next(lp, p)
    return out


def offsets_backwards(lp: bytearray) -> list[int]:
    out = []
    p = lp_last(lp)
    while p is not None:
        out.append(p)
        p = lp_prev(lp, p)
    return out[::-1]


def header(total: int, count: int) -> bytes:
    return struct.pack("<IH", total, count)


# ------------------------------------------------------------------------------------------
# Exact bytes
# ------------------------------------------------------------------------------------------


def test_empty_listpack_bytes():
    lp = lp_new()
    assert bytes(lp) == b"\x07\x00\x00\x00\x00\x00\xff"
    assert lp_first(lp) is None and lp_last(lp) is None
    assert lp_length(lp) == 0 and lp_bytes(lp) == 7
    assert lp_seek(lp, 0) is None and lp_seek(lp, -1) is None
    assert lp_validate_integrity(lp, True)


def test_mixed_list_exact_bytes():
    lp = lp_new()
    for v in [b"a", 1, 127, 128, -1, 4096, 2**40, b"x" * 64, b"y" * 5000]:
        lp_append(lp, v)
    entries = [
        b"\x81a\x02",                                     # 6-bit str len 1, backlen 2
        b"\x01\x01",                                      # 7-bit uint
        b"\x7f\x01",
        b"\xc0\x80\x02",                                  # 13-bit int 128
        b"\xdf\xff\x02",                                  # 13-bit int -1 (8191)
        b"\xf1\x00\x10\x03",                              # 16-bit int 4096
        b"\xf4" + (2**40).to_bytes(8, "little") + b"\x09",  # 64-bit int
        b"\xe0\x40" + b"x" * 64 + b"\x42",                # 12-bit str, entry 66 bytes
        b"\xf0\x88\x13\x00\x00" + b"y" * 5000 + b"\x27\x8d",  # 32-bit str, backlen(5005)
    ]
    body = b"".join(entries)
    expected = header(6 + len(body) + 1, 9) + body + b"\xff"
    assert bytes(lp) == expected
    assert lp_length(lp) == 9
    assert lp_to_list(lp) == [b"a", 1, 127, 128, -1, 4096, 2**40, b"x" * 64, b"y" * 5000]
    assert offsets(lp) == offsets_backwards(lp)
    assert lp_validate_integrity(lp, True)
    # Strings spelling canonical integers are stored as integers: same bytes.
    lp2 = lp_new()
    for v in [b"a", b"1", b"127", b"128", b"-1", b"4096", str(2**40).encode(),
              b"x" * 64, b"y" * 5000]:
        lp_append(lp2, v)
    assert lp2 == lp
    assert lp_build([b"a", 1, 127, 128, -1, 4096, 2**40, b"x" * 64, b"y" * 5000]) == lp


@pytest.mark.parametrize(
    "value, first_byte, entry_len",
    [
        (0, 0x00, 2), (127, 0x7F, 2),
        (128, 0xC0, 3), (-1, 0xDF, 3), (-4096, 0xD0, 3), (4095, 0xCF, 3),
        (4096, 0xF1, 4), (-4097, 0xF1, 4), (32767, 0xF1, 4), (-32768, 0xF1, 4),
        (32768, 0xF2, 5), (-32769, 0xF2, 5), (8388607, 0xF2, 5), (-8388608, 0xF2, 5),
        (8388608, 0xF3, 6), (-8388609, 0xF3, 6), (2**31 - 1, 0xF3, 6), (-(2**31), 0xF3, 6),
        (2**31, 0xF4, 10), (-(2**31) - 1, 0xF4, 10), (2**63 - 1, 0xF4, 10), (-(2**63), 0xF4, 10),
    ],
)
def test_integer_encoding_boundaries(value, first_byte, entry_len):
    lp = lp_new()
    lp_append_integer(lp, value)
    assert lp[LP_HDR_SIZE] == first_byte
    assert len(lp) == LP_HDR_SIZE + entry_len + 1
    assert lp[LP_HDR_SIZE + entry_len - 1] == entry_len - 1  # backlen
    assert lp_get(lp, LP_HDR_SIZE) == value
    assert lp_get_with_size(lp, LP_HDR_SIZE) == (value, entry_len)
    assert lp_get_bytes(lp, LP_HDR_SIZE) == str(value).encode()
    assert lp_validate_integrity(lp, True)
    # The string spelling gives the same bytes.
    lp2 = lp_new()
    lp_append(lp2, str(value).encode())
    assert lp2 == lp


def test_24bit_and_13bit_exact():
    lp = lp_build([-8388608, 8388607, -4096])
    body = b"\xf2\x00\x00\x80\x04" + b"\xf2\xff\xff\x7f\x04" + b"\xd0\x00\x02"
    assert bytes(lp) == header(6 + len(body) + 1, 3) + body + b"\xff"


@pytest.mark.parametrize(
    "s, expected",
    [
        (b"0", 0), (b"1", 1), (b"-1", -1), (b"9223372036854775807", 2**63 - 1),
        (b"-9223372036854775808", -(2**63)),
        (b"9223372036854775808", None), (b"-9223372036854775809", None),
        (b"", None), (b"-", None), (b"-0", None), (b"00", None), (b"007", None),
        (b"+1", None), (b" 1", None), (b"1 ", None), (b"1a", None), (b"1.0", None),
        (b"1\x00", None), (b"0x10", None), (b"12345678901234567890", None),
        (b"\xd9\xa1", None),  # non-ASCII digit must not count
    ],
)
def test_string_to_int64_rules(s, expected):
    assert lp_string_to_int64(s) == expected
    lp = lp_new()
    lp_append(lp, s)
    got = lp_get(lp, lp_first(lp))
    assert got == (s if expected is None else expected)
    assert lp_get_bytes(lp, lp_first(lp)) == s


@pytest.mark.parametrize(
    "length, nbytes",
    [(0, 1), (127, 1), (128, 2), (16382, 2), (16383, 3), (2097150, 3), (2097151, 4),
     (268435454, 4), (268435455, 5), (2**32 - 1, 5)],
)
def test_backlen_widths_and_roundtrip(length, nbytes):
    enc = lp_encode_backlen(length)
    assert len(enc) == nbytes
    # Every byte but the leftmost carries the continuation flag.
    assert enc[0] & 0x80 == 0 and all(b & 0x80 for b in enc[1:])
    assert lp_decode_backlen(bytearray(enc), len(enc) - 1) == length


@pytest.mark.parametrize("n", [0, 62, 63, 64, 125, 126, 127, 4093, 4094, 4095, 4096, 16378, 16379])
def test_string_lengths_around_encoding_and_backlen_edges(n):
    s = bytes(random.Random(n).randrange(97, 123) for _ in range(n))
    lp = lp_build([b"head", s, b"tail"])
    assert lp_to_list(lp) == [b"head", s, b"tail"]
    assert offsets(lp) == offsets_backwards(lp)
    assert lp_validate_integrity(lp, True)
    p = lp_seek(lp, 1)
    first = lp[p]
    if n < 64:
        assert first == 0x80 | n
    elif n < 4096:
        assert first == 0xE0 | (n >> 8) and lp[p + 1] == n & 0xFF
    else:
        assert first == 0xF0 and struct.unpack_from("<I", lp, p + 1)[0] == n


# ------------------------------------------------------------------------------------------
# Operations
# ------------------------------------------------------------------------------------------


def test_insert_before_after_replace_delete():
    lp = lp_build([b"b", b"d"])
    p = lp_insert(lp, b"a", lp_first(lp), LP_BEFORE)
    assert p == LP_HDR_SIZE and lp_to_list(lp) == [b"a", b"b", b"d"]
    p = lp_insert(lp, b"c", lp_seek(lp, 1), LP_AFTER)
    assert lp_get(lp, p) == b"c" and lp_to_list(lp) == [b"a", b"b", b"c", b"d"]
    p = lp_insert(lp, 12345, lp_seek(lp, -1), LP_AFTER)
    assert lp_get(lp, p) == 12345 and lp_seek(lp, -1) == p
    p = lp_replace(lp, lp_seek(lp, 0), b"x" * 100)
    assert lp_get(lp, p) == b"x" * 100
    assert lp_to_list(lp) == [b"x" * 100, b"b", b"c", b"d", 12345]
    assert lp_length(lp) == 5 and lp_bytes(lp) == len(lp)
    p = lp_insert(lp, b"-7", lp_seek(lp, 2), LP_REPLACE)
    assert lp_get(lp, p) == -7
    nxt = lp_delete(lp, lp_seek(lp, 1))
    assert lp_get(lp, nxt) == -7
    assert lp_delete(lp, lp_seek(lp, -1)) is None
    assert lp_to_list(lp) == [b"x" * 100, -7, b"d"]
    assert lp_insert(lp, None, lp_first(lp), LP_BEFORE) == LP_HDR_SIZE  # None deletes
    assert lp_to_list(lp) == [-7, b"d"] and lp_length(lp) == 2
    assert lp_validate_integrity(lp, True)


def test_prepend_and_seek():
    lp = lp_new()
    for i in range(50):
        lp_prepend(lp, b"v%d" % i)
    lp_prepend_integer(lp, -99)
    values = lp_to_list(lp)
    assert values == [-99] + [b"v%d" % i for i in range(49, -1, -1)]
    for i in range(-60, 60):
        p = lp_seek(lp, i)
        if -51 <= i < 51:
            assert lp_get(lp, p) == values[i]
        else:
            assert p is None


def test_find_with_skip_like_a_hash():
    pairs = [(b"f1", b"v1"), (b"100", b"f2"), (b"f2", b"200"), (b"-5", b"x" * 70),
             (b"long" * 20, b"7")]
    lp = lp_build([x for kv in pairs for x in kv])
    first = lp_first(lp)
    for field, value in pairs:
        p = lp_find(lp, first, field, 1)
        assert p is not None and lp_get_bytes(lp, lp_next(lp, p)) == value
    # b"f2" and b"200" are values at odd positions: with skip=1 only b"f2" the field matches.
    p = lp_find(lp, first, b"f2", 1)
    assert lp_get_bytes(lp, lp_next(lp, p)) == b"200"
    assert lp_find(lp, first, b"200", 1) is None
    assert lp_find(lp, first, b"200", 0) is not None
    assert lp_find(lp, first, b"7", 1) is None       # value, not field
    assert lp_find(lp, first, b"100", 1) == lp_seek(lp, 2)  # int field found by its spelling
    assert lp_find(lp, first, b"0100", 1) is None    # non-canonical spelling never matches
    assert lp_find(lp, first, b"nope", 1) is None
    assert lp_find(lp, lp_seek(lp, 2), b"f1", 1) is None  # starts past it


def test_compare():
    lp = lp_build([b"abc", 42, -3])
    p = lp_first(lp)
    assert lp_compare(lp, p, b"abc") and not lp_compare(lp, p, b"ab")
    p = lp_next(lp, p)
    assert lp_compare(lp, p, b"42") and not lp_compare(lp, p, b"042")
    assert not lp_compare(lp, len(lp) - 1, b"x")  # EOF


def test_delete_range():
    values = [b"e%d" % i for i in range(20)]
    for index, num in [(0, 3), (5, 1), (-3, 10), (18, 5), (25, 1), (-25, 2), (0, 0), (3, 100)]:
        lp = lp_build(values)
        model = list(values)
        lp_delete_range(lp, index, num)
        start = index + len(model) if index < 0 else index
        if 0 <= start < len(model):
            del model[start:start + num]
        assert lp_to_list(lp) == model, (index, num)
        assert lp_length(lp) == len(model) and lp_validate_integrity(lp, True)
    lp = lp_build(values)
    p = lp_delete_range_with_entry(lp, lp_seek(lp, 2), 3)
    assert lp_get(lp, p) == b"e5" and lp_length(lp) == 17
    assert lp_delete_range_with_entry(lp, lp_seek(lp, 15), 99) is None
    assert lp_to_list(lp) == values[:2] + values[5:18]


def test_merge_both_directions():
    a = lp_build([b"a%d" % i for i in range(10)])
    b = lp_build([b"b"])
    merged = lp_merge(a, b)
    assert merged is a  # the larger one is grown
    assert lp_to_list(merged) == [b"a%d" % i for i in range(10)] + [b"b"]
    assert lp_validate_integrity(merged, True)
    a = lp_build([1])
    b = lp_build([b"b%d" % i for i in range(10)])
    merged = lp_merge(a, b)
    assert merged is b
    assert lp_to_list(merged) == [1] + [b"b%d" % i for i in range(10)]
    assert lp_validate_integrity(merged, True)
    assert lp_merge(a, a) is None


def test_unknown_element_count_header():
    n = LP_HDR_NUMELE_UNKNOWN
    lp = lp_build([b"%d" % (i % 100) for i in range(n)])
    assert lp[4:6] == b"\xff\xff"
    assert lp_length(lp) == n          # scanned; still too big for the header
    assert lp[4:6] == b"\xff\xff"
    assert lp_seek(lp, -1) is not None and lp_get(lp, lp_seek(lp, -1)) == (n - 1) % 100
    lp_delete(lp, lp_first(lp))        # header stays "unknown" ...
    assert lp[4:6] == b"\xff\xff"
    assert lp_length(lp) == n - 1      # ... until a scan finds the count fits again
    assert struct.unpack_from("<H", lp, 4)[0] == n - 1
    assert lp_validate_integrity(lp, True)


def test_validate_integrity_rejects_corruption():
    good = lp_build([b"hello", 300, b"z" * 200])
    assert lp_validate_integrity(good, True)
    bad = bytearray(good)
    bad[-1] = 0x00                                  # no terminator
    assert not lp_validate_integrity(bad, False)
    bad = bytearray(good)
    struct.pack_into("<I", bad, 0, len(good) + 1)   # size mismatch
    assert not lp_validate_integrity(bad, False)
    bad = bytearray(good)
    struct.pack_into("<H", bad, 4, 2)               # wrong count: only a deep check sees it
    assert lp_validate_integrity(bad, False) and not lp_validate_integrity(bad, True)
    bad = bytearray(good)
    bad[LP_HDR_SIZE + 6] ^= 0x01                    # backlen of "hello" no longer agrees
    assert lp_validate_integrity(bad, False) and not lp_validate_integrity(bad, True)
    bad = bytearray(good)
    bad[LP_HDR_SIZE] = 0xF7                         # unknown encoding byte
    assert not lp_validate_integrity(bad, True)
    assert not lp_validate_integrity(bytearray(b"\x06\x00\x00\x00\x00\x00"), False)
    assert not lp_validate_integrity(good[:-3], True)
    seen = []
    assert lp_validate_integrity(good, True, lambda lp, p, n: seen.append(p) or True)
    assert seen == offsets(good)
    assert not lp_validate_integrity(good, True, lambda lp, p, n: False)


def test_safe_to_add():
    assert lp_safe_to_add(None, 1 << 30)
    assert not lp_safe_to_add(None, (1 << 30) + 1)
    assert lp_safe_to_add(lp_new(), (1 << 30) - 7)
    assert not lp_safe_to_add(lp_new(), (1 << 30) - 6)


def test_random_pairs():
    random.seed(7)
    mapping = {b"k%d" % i: b"v%d" % i for i in range(20)}
    lp = lp_build([x for kv in mapping.items() for x in kv])
    for _ in range(50):
        k, v = lp_random_pair(lp, 20)
        assert mapping[k] == v
    keys, vals = lp_random_pairs(lp, 100)
    assert len(keys) == 100 and all(mapping[k] == v for k, v in zip(keys, vals, strict=True))
    assert len(set(keys)) > 10
    keys, vals = lp_random_pairs_unique(lp, 8)
    assert len(keys) == 8 == len(set(keys)) and all(mapping[k] == v for k, v in zip(keys, vals,
                                                                                    strict=True))
    order = [list(mapping).index(k) for k in keys]
    assert order == sorted(order)  # listpack order, not random order
    keys, vals = lp_random_pairs_unique(lp, 50, with_vals=False)
    assert sorted(keys) == sorted(mapping) and vals is None


def test_repr_mentions_entries():
    text = lp_repr(lp_build([b"abc", 5]))
    assert "{total bytes 14} {num entries 2}" in text and "[str]abc" in text and "[str]5" in text


# ------------------------------------------------------------------------------------------
# Model test: random edits against a Python list
# ------------------------------------------------------------------------------------------


def norm(v: bytes | int) -> bytes | int:
    if isinstance(v, int):
        return v
    i = lp_string_to_int64(v)
    return v if i is None else i


values_st = st.one_of(
    st.binary(max_size=12),
    st.binary(min_size=60, max_size=140),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-40000, max_value=40000).map(lambda i: str(i).encode()),
    st.sampled_from([b"0", b"-0", b"007", b"+5", b"x" * 4100, b"9223372036854775808"]),
)

ops_st = st.lists(
    st.tuples(st.sampled_from(["append", "prepend", "before", "after", "replace", "delete",
                               "delrange"]),
              st.integers(min_value=-30, max_value=30), values_st, st.integers(0, 4)),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops_st)
def test_model_random_edits(ops):
    lp = lp_new()
    model: list[bytes | int] = []
    for op, index, value, num in ops:
        n = len(model)
        if op == "append":
            lp_append(lp, value)
            model.append(norm(value))
        elif op == "prepend":
            lp_prepend(lp, value)
            model.insert(0, norm(value))
        elif op == "delrange":
            lp_delete_range(lp, index, num)
            start = index + n if index < 0 else index
            if 0 <= start < n:
                del model[start:start + num]
        else:
            p = lp_seek(lp, index)
            if not -n <= index < n:
                assert p is None
                continue
            i = index % n
            if op == "before":
                q = lp_insert(lp, value, p, LP_BEFORE)
                model.insert(i, norm(value))
                assert lp_get(lp, q) == model[i]
            elif op == "after":
                q = lp_insert(lp, value, p, LP_AFTER)
                model.insert(i + 1, norm(value))
                assert lp_get(lp, q) == model[i + 1]
            elif op == "replace":
                lp_replace(lp, p, value)
                model[i] = norm(value)
            else:
                q = lp_delete(lp, p)
                del model[i]
                assert (q is None) == (i == len(model))
        assert lp_length(lp) == len(model)
    assert lp_to_list(lp) == model
    assert list(lp_iter(lp)) == model
    assert [lp_get(lp, p) for p in offsets_backwards(lp)] == model
    assert lp_validate_integrity(lp, True)
    assert lp_build(model) == lp
