import json

from v2p.cli import main
from v2p.config import EconomicsConfig
from v2p.economics.accounts import CSV_NAME, EpisodeAccounts, read_episode_csv, reconcile
from v2p.economics.monitor import EconomicsMonitor
from v2p.task.events import SimEvent


def _run_episodes(accounts, site, n, s_cust):
    monitor = EconomicsMonitor(EconomicsConfig(), s_cust=s_cust)
    for ep in range(n):
        t = 0.0
        monitor.on_event(SimEvent(ep, "episode_start", t))
        for i in range(12):
            t += 27.0 + ep
            monitor.on_event(SimEvent(ep, "unit" if (i + ep) % 9 else "broken", t, i, "plate"))
        result = monitor.on_event(SimEvent(ep, "episode_end", t, episode_hours=t / 3600))
        accounts.record(site, result, "platform_site" if site == "default" else "counterfactual")


def test_csv_and_ledger_reconcile_to_the_cent(tmp_path, capsys):
    accounts = EpisodeAccounts(tmp_path, EconomicsConfig())
    _run_episodes(accounts, "default", 5, 0.0)
    _run_episodes(accounts, "customer_bistro", 7, 0.37)
    accounts.close()
    result = reconcile(tmp_path)
    assert result.ok, result.problems
    assert result.sites["customer_bistro"]["episodes"] == 7 and result.sites["default"]["rebate_cents"] == 0
    assert len(read_episode_csv(tmp_path / CSV_NAME)) == 12
    assert main(["ledger", "--run", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_a_tampered_csv_fails_reconciliation(tmp_path, capsys):
    accounts = EpisodeAccounts(tmp_path, EconomicsConfig())
    _run_episodes(accounts, "customer_bistro", 3, 0.5)
    accounts.close()
    lines = (tmp_path / CSV_NAME).read_text().splitlines()
    cols = lines[1].split(",")
    cols[-2] = str(float(cols[-2]) + 0.01)  # one cent more rebate than the ledger holds
    lines[1] = ",".join(cols)
    (tmp_path / CSV_NAME).write_text("\n".join(lines) + "\n")
    assert not reconcile(tmp_path).ok
    assert main(["ledger", "--run", str(tmp_path)]) == 1
    assert "NOT reconciled" in capsys.readouterr().out


def test_ledger_command_names_a_missing_run(tmp_path, capsys):
    assert main(["ledger", "--run", str(tmp_path / "nope")]) == 2
    assert "no ledger" in capsys.readouterr().err
