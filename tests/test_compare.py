import math

from helpers.core.compare import compare


def test_equal_documents_have_no_difference():
    doc = {"a": 1.5, "b": [1, 2, {"c": float("nan"), "d": "x"}], "e": True}
    c = compare(doc, doc)
    assert (c.numbers, c.max_abs, c.worst, c.structural) == (4, 0.0, "", [])
    assert c.within(0.0)


def test_the_largest_difference_and_where_it_is():
    c = compare({"a": 1.0, "b": {"c": [0.5, 2.0]}}, {"a": 1.0 + 1e-13, "b": {"c": [0.5, 2.25]}})
    assert c.numbers == 3
    assert c.max_abs == 0.25 and c.worst == "b.c[1]"
    assert not c.within(1e-12) and c.within(0.25)


def test_a_nan_against_a_number_is_an_infinite_difference():
    c = compare({"x": float("nan")}, {"x": 0.0})
    assert math.isinf(c.max_abs) and c.worst == "x"


def test_structural_differences_are_named():
    c = compare({"a": 1, "s": "x", "l": [1, 2]}, {"a": 1, "t": 2, "l": [1], "s": "y"})
    assert c.structural == ["l: 2 items against 1", "s: 'x' against 'y'", "t: only in the second"]
    assert not c.within(1.0)


def test_ignored_keys_are_skipped_at_any_depth():
    a = {"timings": {"x": 1.0}, "v": {"timings": 5, "n": 1}}
    b = {"timings": {"x": 9.0}, "v": {"n": 1}}
    c = compare(a, b, ignore=("timings",))
    assert (c.numbers, c.max_abs, c.structural) == (1, 0.0, [])
