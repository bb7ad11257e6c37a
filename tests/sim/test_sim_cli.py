"""`v2p sim` and `v2p sweep`: JSON keys, files, and bad input as one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from v2p.cli import main
from v2p.experiments.frontier import load_npz


def _json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    return json.loads(out[0])


def test_sim_json(capsys) -> None:
    out = _json(capsys, ["sim", "--site", "default", "--speed", "0.7", "--care", "0.9", "--episodes", "2",
                         "--seed", "3", "--shift-hours", "0.01", "--json"])
    assert {"mp", "err_rate", "errors_by_type", "implied_wage", "wage_parity", "episodes", "sim_hours"} <= set(out)
    assert out["episodes"] == 2 and out["sim_hours"] >= 0.02
    assert set(out["errors_by_type"]) == {"dropped", "broken", "dirty", "misplaced"}
    assert out["mp"] == pytest.approx(out["units"] / out["sim_hours"])
    assert out["implied_wage"] == pytest.approx(0.30 * out["mp"] - 1.00 * out["errors"] / out["sim_hours"])


def test_sweep_json_and_files(capsys, tmp_path: Path) -> None:
    out = _json(capsys, ["sweep", "--site", "customer_bistro", "--grid", "2", "--episodes-per-point", "1",
                         "--workers", "2", "--shift-hours", "0.005", "--out", str(tmp_path), "--json"])
    assert out["grid"] == 2 and 0 <= out["feasible_points"] <= 4
    if out["best"] is not None:
        assert set(out["best"]) == {"speed", "care", "mp", "err_rate", "implied_wage"}
    for name in ("frontier.npz", "frontier.csv", "frontier.png"):
        assert (tmp_path / name).stat().st_size > 0
    result = load_npz(tmp_path / "frontier.npz")
    assert result.mp.shape == (2, 2) and np.all(result.attempts >= 1)
    assert len((tmp_path / "frontier.csv").read_text().splitlines()) == 1 + 4


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["sim", "--site", "atlantis", "--speed", "0.5", "--care", "0.5"], "atlantis"),
        (["sweep", "--site", "atlantis", "--out", "unused"], "atlantis"),
    ],
)
def test_bad_site_is_a_one_line_error(capsys, argv: list[str], needle: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_out_of_range_action_is_rejected(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sim", "--speed", "1.5", "--care", "0.5"])
    assert info.value.code == 2
    assert "--speed" in capsys.readouterr().err
