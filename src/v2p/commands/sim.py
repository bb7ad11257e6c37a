"""`v2p sim`: run the dishwashing workcell at one fixed (speed, care) and price the result like labor."""

from __future__ import annotations

import argparse
import json
import math

from v2p.cli_types import fraction, positive_int
from v2p.commands._options import add_economics, add_json


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of hours, got {text!r}") from None
    if not (math.isfinite(value) and 0.0 < value <= 24.0):
        raise argparse.ArgumentTypeError(f"must lie in (0, 24] hours, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sim", help="run fixed-action shifts in the PyBullet workcell; print MP, errors, wage")
    p.add_argument("--site", default="default", help="site name (config/sites/NAME.yaml) or a site YAML path")
    p.add_argument("--speed", type=fraction, required=True, help="speed in [0, 1]")
    p.add_argument("--care", type=fraction, required=True, help="care in [0, 1]")
    p.add_argument("--episodes", type=positive_int, default=1, help="shifts to run (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first shift; shift k uses seed+k (default 0)")
    p.add_argument("--shift-hours", type=_hours, default=None, help="sim hours per shift (default: the site's)")
    add_economics(p)
    p.add_argument("--frame", default=None, metavar="PNG",
                   help="also save one camera frame (mid-scrub of the first cycle), upscaled, to this PNG")
    p.add_argument("--frame-size", type=positive_int, default=128, help="camera frame size in pixels (default 128)")
    add_json(p, "the figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from v2p.config import load_economics_config
    from v2p_sim import load_site, run_fixed_action

    cfg = load_economics_config(args.economics)
    site = load_site(args.site)
    out = run_fixed_action(site, args.speed, args.care, args.episodes, args.seed, args.shift_hours, econ_config=cfg)
    if args.frame:
        out["frame"] = save_frame(site, args.speed, args.care, args.seed, args.frame_size, args.frame)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"site {out['site']}: speed {out['speed']:.2f}, care {out['care']:.2f}, "
          f"{out['episodes']} shift(s), {out['sim_hours']:.3f} sim h")
    print(f"  MP            {out['mp']:8.1f} clean dishes / h  ({out['units']} of {out['attempts']} attempts)")
    by_type = ", ".join(f"{k} {v}" for k, v in out["errors_by_type"].items())
    print(f"  error rate    {out['err_rate']:8.1%}  ({out['errors']} errors: {by_type})")
    print(f"  implied wage  {out['implied_wage']:8.2f} $/h  "
          f"(parity {out['wage_parity']:.2f} × ${cfg.human_wage:.2f}/h)")
    if args.frame:
        print(f"  wrote camera frame {out['frame']}")
    return 0


def save_frame(site, speed: float, care: float, seed: int, size: int, path: str) -> str:
    """Run the first cycle of shift `seed` and save the camera frame seen halfway through the scrub."""
    from pathlib import Path

    import cv2
    import numpy as np

    from v2p.errors import V2PError
    from v2p_sim import Workcell

    if not 8 <= size <= 512:
        raise V2PError(f"--frame-size must lie in [8, 512], got {size}")
    wc = Workcell(site, seed=seed, render_size=size)
    scrub: list[tuple[float, np.ndarray]] = []
    try:
        wc.run_cycle(speed, care, tick=lambda t: scrub.append((t, wc.render_rgb())) if wc.aux_state()["arm_phase"] == 2
                     else None, tick_period_s=0.5)
    finally:
        wc.close()
    if not scrub:
        raise V2PError("the first cycle failed before the scrub: no frame to save (try another --seed)")
    frame = scrub[len(scrub) // 2][1]
    scale = max(1, 512 // size)
    big = np.kron(frame, np.ones((scale, scale, 1), dtype=np.uint8))  # nearest-neighbour: the pixels as seen
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(big, cv2.COLOR_RGB2BGR)):
        raise V2PError(f"cannot write {out} (the extension must be an image format, e.g. .png)")
    return str(out)
