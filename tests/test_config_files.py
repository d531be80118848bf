"""Scenario files are complete or say what they extend; shipped scenarios are unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hmarl_bench.config import (
    SCENARIO_DIR,
    ScenarioError,
    list_scenarios,
    load_scenario,
    read_scenario_file,
)

DEFAULT_TOML = (SCENARIO_DIR / "default.toml").read_text(encoding="utf-8")

#: SHA-256 (16 hex) of each shipped scenario's values, recorded before files had to be
#: complete: the shipped files, and the fingerprints of results made from them, stay put.
SCENARIO_DIGESTS = {
    "default": "01d79f34fc9d9bb9",
    "demand_spike": "86c3f6b64da3622f",
    "high_variability": "cb35ab68adeec4e6",
    "multi_sku": "8fe59a5e30b74e34",
    "stores_100": "4515b4f3b96b1f83",
    "stores_1000": "bae9c0480c591feb",
    "strong_seasonality": "8b6a6a0dfdaa3d3d",
    "supplier_delay": "e9d641e39a5e4659",
    "three_stores": "62c169cbe5213ee8",
}


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _without(text: str, header: str) -> str:
    """``text`` without the TOML table (or array-of-tables entries) named ``header``."""
    out, skipping = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.split("#")[0].strip() == header
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", list(SCENARIO_DIGESTS))
def test_shipped_scenarios_load_to_the_same_values(name):
    assert name in list_scenarios()
    values = json.dumps(load_scenario(name).to_dict(), sort_keys=True).encode()
    assert hashlib.sha256(values).hexdigest()[:16] == SCENARIO_DIGESTS[name]
    assert read_scenario_file(name).extends == ()


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("[[stores]]", "stores (or store_pattern)"),
        ("[sku]", "sku (or skus)"),
        ("[supplier]", "supplier"),
        ("[store_reward]", "store_reward"),
    ],
)
def test_a_file_missing_a_table_names_it(tmp_path, header, named):
    path = _write(tmp_path, "mine.toml", _without(DEFAULT_TOML, header))
    with pytest.raises(ScenarioError, match="missing") as info:
        load_scenario(path)
    message = str(info.value)
    assert named in message and str(path) in message and 'extends = "<scenario>"' in message


def test_every_missing_key_is_named_at_once(tmp_path):
    text = DEFAULT_TOML.replace("delay_days = 3\n", "").replace("warmup_days = 7\n", "")
    text = text.replace("capacity = 1500\n", "", 1)
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, "mine.toml", text))
    for key in ("warmup_days", "stores[1].capacity", "supplier.delay_days"):
        assert key in str(info.value)


def test_a_misspelt_key_is_reported_as_unknown_not_missing(tmp_path):
    text = DEFAULT_TOML.replace("delay_days = 3", "delay_dayz = 3")
    with pytest.raises(ScenarioError, match="unknown key") as info:
        load_scenario(_write(tmp_path, "mine.toml", text))
    assert info.value.key == "supplier.delay_dayz"


def test_extends_merges_tables_key_by_key(tmp_path):
    text = 'extends = "default"\n[supplier]\nreliability = 0.7\n'
    path = _write(tmp_path, "flaky.toml", text)
    mine, base = load_scenario(path), load_scenario("default")
    assert mine.name == "flaky" and mine.description == ""
    assert mine.supplier.reliability == 0.7 and mine.supplier.lead_time == 7
    assert mine.stores == base.stores and mine.costs == base.costs
    source = read_scenario_file(path)
    assert source.extends == (SCENARIO_DIR / "default.toml",) and source.label == "flaky"


def test_extends_replaces_arrays_and_the_other_store_form(tmp_path):
    one_store = '[[stores]]\nname = "solo"\ndemand_multiplier = 1.0\ninitial_inventory = 600\n'
    one_store += "capacity = 1500\nreorder_point = 250\norder_up_to = 700\n"
    path = _write(tmp_path, "solo.toml", 'extends = "stores_100"\n' + one_store)
    assert [s.name for s in load_scenario(path).stores] == ["solo"]
    pattern = "[store_pattern]\ncount = 4\n"
    chained = _write(tmp_path, "four.toml", 'extends = "solo.toml"\n' + pattern)
    with pytest.raises(ScenarioError, match="store_pattern.profiles"):
        load_scenario(chained)  # solo.toml has no pattern to take profiles from
    full = _write(tmp_path, "four_of_100.toml", 'extends = "stores_100"\n' + pattern)
    assert load_scenario(full).n_stores == 4


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('extends = "atlantis"\n', "unknown scenario 'atlantis'"),
        ("extends = 3\n", "expected a scenario name or path"),
        ('extends = "loop.toml"\n', "extend each other"),
    ],
)
def test_bad_extends_names_the_key(tmp_path, text, words):
    path = _write(tmp_path, "loop.toml", text)
    with pytest.raises(ScenarioError, match=words) as info:
        load_scenario(path)
    assert info.value.key == "extends" and str(path) in str(info.value)


def test_a_run_is_named_after_the_file_and_records_what_it_extends(tmp_path, monkeypatch):
    from hmarl_bench.run import main

    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, "my_chain.toml", 'name = "default"\nextends = "default"\n')
    argv = ["--scenario", str(path), "--timesteps", "128", "--n-envs", "2"]
    argv += ["--eval-episodes", "2", "--no-progress", "--hp", "n_steps=32"]
    assert main([*argv, "--hp", "batch_size=64", "--hp", "n_epochs=1"]) == 0
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("my_chain-ppo-seed0-")
    config = json.loads((folder / "config.json").read_text())
    assert config["scenario_source"]["extends"] == [str(SCENARIO_DIR / "default.toml")]
    assert config["scenario"] == {**load_scenario("default").to_dict(), "description": ""}
