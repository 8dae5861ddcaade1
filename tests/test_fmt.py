import pytest

from helpers.core import fmt


def test_each_kind():
    assert fmt.pct(0.99361) == "99.36 %"
    assert fmt.pct(0.5, 0) == "50 %"
    assert fmt.pp(-0.0004) == "\u22120.04 pp" and fmt.pp(0.0004) == "+0.04 pp"
    assert fmt.nats(0.45712) == "0.457 nats"
    assert fmt.kb(128282) == "128.3 kB" and fmt.kb(1_234_567) == "1,234.6 kB"
    assert fmt.ratio(4.0935) == "4.09×"
    assert fmt.number(-0.02134, 4) == "\u22120.0213"


def test_pvalues():
    assert [fmt.pvalue(p) for p in (0.58, 0.0123, 0.0042, 0.0004)] == ["p = 0.58", "p = 0.01", "p = 0.004", "p < 0.001"]


def test_missing_values_are_dashes():
    assert fmt.pct(None) == fmt.pp(float("nan")) == fmt.kb(None) == "\u2014"


def test_interval_carries_the_unit_once():
    assert fmt.interval(fmt.pp, -0.0004, -0.0015, 0.0007) == "\u22120.04 pp [\u22120.15, +0.07]"
    assert fmt.interval(fmt.pct, 0.9936, 0.992, 0.9951) == "99.36 % [99.20, 99.51]"
    assert fmt.interval(fmt.nats, 0.457, float("nan"), 0.5) == "0.457 nats"


def test_span_is_one_number_when_both_ends_print_alike():
    assert fmt.span([0.03, 0.061, 0.05]) == "0.03–0.06"
    assert fmt.span([0.1149, 0.1051]) == "0.11"  # '±0.11–0.11 pp' read as a typo
    assert fmt.span([1.0, 5.0], 0) == "1–5"
    assert fmt.span([-0.02, 0.01]) == "−0.02–0.01"


def test_a_value_that_rounds_to_zero_has_no_minus():
    assert fmt.number(-0.0001, 3) == "0.000" and fmt.number(-0.0001, 3, signed=True) == "+0.000"
    assert fmt.nats(-0.00004, signed=True) == "+0.000 nats" and fmt.pp(-0.00001) == "+0.00 pp"
    assert fmt.number(-0.0006, 3) == "−0.001"


def test_seed_option_is_what_the_command_line_parses():
    from helpers.stages.sweep import parse_seeds

    seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14]
    assert fmt.seed_option(seeds) == "0-12,14" and fmt.seed_option([5, 6]) == "5,6"
    assert parse_seeds(fmt.seed_option(seeds)) == seeds


def test_level_names_the_confidence_of_an_alpha():
    assert [fmt.level(a) for a in (0.05, 0.1, 0.025, 0.01)] == ["95 %", "90 %", "97.5 %", "99 %"]
    with pytest.raises(ValueError, match=r"alpha=0.95 is not a two-sided level: it must lie in \(0, 0.5\)"):
        fmt.level(0.95)


def test_and_list():
    assert fmt.and_list([]) == "" and fmt.and_list(["50 %"]) == "50 %"
    assert fmt.and_list(["10", "30"]) == "10 and 30" and fmt.and_list(iter(["a", "b", "c"])) == "a, b and c"


def test_seed_list():
    assert fmt.seed_list([4, 0, 1, 2, 3]) == "0–4"
    assert fmt.seed_list([5, 6]) == "5 and 6" and fmt.seed_list([0, 5, 9]) == "0, 5 and 9"
    assert fmt.seed_list([0, 5, 6, 7, 8, 9, 10]) == "0 and 5–10" and fmt.seed_list([0, 1, 2, 5, 6, 9]) == "0–2, 5, 6 and 9"
    assert fmt.seed_list([7]) == "7" and fmt.seed_list([]) == ""


def test_numbers_and_their_units_stay_together_where_the_book_shows_them():
    assert fmt.keep_units("0.457 nats") == "0.457\u00a0nats"
    assert fmt.keep_units("+0.02 pp [−0.03, +0.06]") == "+0.02\u00a0pp [−0.03, +0.06]"
    assert fmt.keep_units("99.36 % [99.20, 99.51] at 95 % sparsity") == "99.36\u00a0% [99.20, 99.51] at 95\u00a0% sparsity"
    assert fmt.keep_units("138.0 kB in 2.0 min") == "138.0\u00a0kB in 2.0\u00a0min"
    assert fmt.keep_units("15 seeds, 5 members") == "15 seeds, 5 members"  # counts are not units
    assert fmt.keep_units(fmt.nats(0.4571)) != fmt.nats(0.4571)  # the formatters keep plain spaces


def test_tables_and_glued_text_hold_units_with_their_numbers():
    import pandas as pd

    from helpers.book import chapter

    frame = pd.DataFrame({"Ensemble": ["a"], "NLL": ["0.457 nats"], "n": [3]}).set_index("Ensemble")
    shown = chapter.display_frame(frame)
    assert shown.iloc[0, 0] == "0.457\u00a0nats" and shown.iloc[0, 1] == 3 and shown.columns.name == "Ensemble"
    assert frame.iloc[0, 0] == "0.457 nats"  # the table itself is not changed
