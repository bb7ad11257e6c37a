"""The options the `v2p` subcommands share have one name and one meaning everywhere: `--economics PATH` wherever a
subcommand reads the economics YAML (never `--config`), `--json` a plain switch; helper modules of v2p.commands
are not subcommands."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil

import pytest
import yaml

from v2p import commands
from v2p.cli import build_parser, main
from v2p.config import DEFAULT_ECONOMICS


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every leaf parser, named as typed (`bag info`, `econ`)."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(prefix: str, parser: argparse.ArgumentParser) -> None:
        children = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not children:
            found[prefix] = parser
        for action in children:
            for name, child in action.choices.items():
                walk(f"{prefix} {name}".strip(), child)

    walk("", build_parser())
    return found


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: a for a in parser._actions for flag in a.option_strings}


def test_helper_modules_are_not_subcommands():
    leaves = subcommands()
    registered = {parser.get_default("func").__module__.rsplit(".", 1)[-1] for parser in leaves.values()}
    modules = {m.name for m in pkgutil.iter_modules(commands.__path__)}
    assert "_options" in modules and not any(name.startswith("_") for name in leaves)
    assert registered == {m for m in modules if not m.startswith("_")}


def test_every_subcommand_that_reads_the_economics_takes_economics_path():
    readers = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
               and "load_economics_config(" in inspect.getsource(importlib.import_module(f"v2p.commands.{m.name}"))}
    assert {"econ", "demo", "learn", "train", "sim", "top"} <= readers
    for name, parser in subcommands().items():
        opts = options(parser)
        assert "--config" not in opts, name
        func = parser.get_default("func")
        module = func.__module__.rsplit(".", 1)[-1]
        # per subcommand where a module holds several (v2p data-value: only `corpus` prices anything)
        source = inspect.getsource(func)
        reads = module in readers and ("load_economics_config(" in source or "args.economics" in source
                                       or len([f for f in subcommands().values()
                                               if f.get_default("func").__module__ == func.__module__]) == 1)
        if reads:
            action = opts.get("--economics")
            assert action is not None, f"v2p {name} reads the economics YAML but has no --economics"
            assert action.dest == "economics" and action.metavar == "PATH" and action.default is None
            assert "(default config/economics.yaml)" in action.help, name
        if "--json" in opts:
            assert isinstance(opts["--json"], argparse._StoreTrueAction) and "JSON object" in opts["--json"].help


@pytest.mark.parametrize("argv", [["sim", "--speed", "0.5", "--care", "0.5"], ["summary", "--run", "x"]])
def test_the_old_config_flag_is_refused(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--config", "e.yaml"])
    assert info.value.code == 2 and "--config" in capsys.readouterr().err


def test_economics_path_is_read(tmp_path, capsys):
    """The same operating point priced with another human wage: the file given is the one used."""
    assert main(["econ", "--mp", "100", "--err", "0.05", "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    values = yaml.safe_load(DEFAULT_ECONOMICS.read_text())
    other = tmp_path / "economics.yaml"
    values["human_wage"] = float(values["human_wage"]) * 2
    other.write_text(yaml.safe_dump(values))
    assert main(["econ", "--mp", "100", "--err", "0.05", "--economics", str(other), "--json"]) == 0
    changed = json.loads(capsys.readouterr().out)
    assert changed["wage_parity"] == pytest.approx(default["wage_parity"] / 2)
