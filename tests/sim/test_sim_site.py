"""Site files: both shipped sites load; a bad value is a ConfigError that names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from v2p.errors import ConfigError
from v2p_sim import load_site
from v2p_sim.site import SITES_DIR


def test_shipped_sites_load_and_differ() -> None:
    default, bistro = load_site("default"), load_site("customer_bistro")
    assert default.name == "default" and bistro.name == "customer_bistro"
    assert bistro.bowl.mass_kg[0] > default.bowl.mass_kg[1]          # heavier bowls
    assert bistro.glass.wet_friction[1] < default.glass.wet_friction[0]  # slippery glasses
    assert load_site(SITES_DIR / "default.yaml") == default


def _write(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((SITES_DIR / "default.yaml").read_text())
    edit(data)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["plate"].__setitem__("mass_kg", [0.6, 0.4]), "plate.mass_kg"),
        (lambda d: d["glass"].__setitem__("break_impulse_ns", -1.0), "glass.break_impulse_ns"),
        (lambda d: d["bowl"].__setitem__("dirt", [0.2, 1.5]), "bowl.dirt"),
        (lambda d: d["mix"].__setitem__("glass", "lots"), "mix.glass"),
        (lambda d: d.__setitem__("shift_hours", 0), "shift_hours"),
        (lambda d: d.__setitem__("colour", "red"), "colour"),
        (lambda d: d["plate"].pop("radius_m"), "plate.radius_m"),
        (lambda d: d["plate"].__setitem__("wet_friction", 0.5), "plate.wet_friction"),
    ],
)
def test_bad_value_names_file_and_key(tmp_path: Path, edit, key: str) -> None:
    path = _write(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        load_site(path)
    assert info.value.key == key
    assert str(path) in str(info.value) and f"'{key}'" in str(info.value)


def test_unknown_site_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known sites: .*customer_bistro.*default"):
        load_site("no_such_kitchen")
