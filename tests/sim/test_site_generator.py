"""Random customer sites (v2p_sim.site_generator): valid, reproducible from their seed, varied, and saved as site
files that load back to the same site."""

from v2p_sim import load_site
from v2p_sim.site_generator import random_site, save_site


def test_drawn_sites_are_valid_reproducible_and_varied(tmp_path):
    sites = [random_site(s) for s in range(12)]
    assert random_site(3) == sites[3]
    mixes = {(s.mix.plate, s.mix.bowl, s.mix.glass) for s in sites}
    assert len(mixes) == 12 and all(abs(sum(m) - 1.0) < 0.01 for m in mixes)
    assert len({s.glass.wet_friction for s in sites}) > 6 and len({s.bowl.mass_kg for s in sites}) > 6
    for site in sites[:4]:
        path = save_site(site, tmp_path / f"{site.name}.yaml")
        again = load_site(path)
        assert again.mix == site.mix and again.glass == site.glass and again.shift_hours == site.shift_hours
