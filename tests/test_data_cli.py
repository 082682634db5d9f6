"""`python -m experiments.data`: look at the configured data before training."""

from experiments.data import main
from tests.conftest import TINY, exit_status

DATA = [o for o in TINY if o.startswith("data.")]


def test_prints_counts_per_class_and_split_sizes(tmp_path, capsys):
    assert main([*DATA, "--grid", str(tmp_path / "grid.png")]) == 0
    out = capsys.readouterr().out
    assert "data=sample" in out
    assert "    A       12        6        3        3" in out
    assert "total      432      216      108      108" in out


def test_writes_a_png_grid_of_samples_per_class(tmp_path):
    grid = tmp_path / "grid.png"
    main([*DATA, "--grid", str(grid), "--per-class", "3"])
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_setting_is_one_line_and_exit_status_2(tmp_path, capsys):
    assert exit_status(main, *DATA, "data.split.val=2", "--grid", str(tmp_path / "g.png")) == 2
    assert capsys.readouterr().err.strip() == "error: data.split.val must be in (0, 1), got 2.0"


def test_max_per_class_caps_every_class(tmp_path, capsys):
    main([*DATA, "data.max_per_class=8", "--grid", str(tmp_path / "g.png")])
    assert "total      288" in capsys.readouterr().out


def test_undersample_cuts_every_class_to_the_smallest(tmp_path, capsys):
    overrides = [o for o in DATA if "digits_per_class" not in o]
    main(
        [
            *overrides,
            "data.sources.sample.digits_per_class=8",
            "data.balance=undersample",
            "--grid",
            str(tmp_path / "g.png"),
        ]
    )
    assert "total      288" in capsys.readouterr().out


def test_an_unknown_balancing_lists_the_valid_ones(tmp_path, capsys):
    grid = str(tmp_path / "g.png")
    assert exit_status(main, *DATA, "data.balance=oversample", "--grid", grid) == 2
    assert "data.balance must be one of none, undersample" in capsys.readouterr().err


def test_cache_lists_the_prepared_entries(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "cache"))
    main([*DATA, "--grid", str(tmp_path / "g.png")])
    capsys.readouterr()
    assert main(["--cache"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{tmp_path / 'cache'}: 1 entries") and "sample-" in out


def test_prune_cache_deletes_the_entries_and_says_which(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "cache"))
    main([*DATA, "--grid", str(tmp_path / "g.png")])
    capsys.readouterr()
    assert main(["--prune-cache", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("deleted sample-") and ": 0 entries, 0.0 MB" in out


def test_overrides_may_follow_the_options(tmp_path, capsys):
    assert main(["--grid", str(tmp_path / "grid.png"), "--per-class", "2", *DATA]) == 0
    assert "total      432" in capsys.readouterr().out
