from helpers import chapter


def test_pct_and_pp_format_with_a_true_minus():
    assert chapter.pct(0.991234) == "99.12 %"
    assert chapter.pct(0.5, 1) == "50.0 %"
    assert chapter.pp(-0.0004) == "\u22120.04 pp"
    assert chapter.pp(0.0004) == "+0.04 pp"


def test_overrides_take_only_config_names_that_are_set():
    namespace = {"profile": "smoke", "seed": 3, "epochs": None, "spread_seeds": [1], "x": 1}
    assert chapter.overrides(namespace) == {"seed": 3}
