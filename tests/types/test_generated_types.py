"""The checked-in client types are what ``coachdb types`` generates from a fresh build of the
SQL tree and the contracts: a change to a table, a grant, an enum or a contract that is not
followed by ``coachdb types typescript`` and ``coachdb types python`` fails here."""

from __future__ import annotations

import importlib.util
import sys
import typing

import pytest

from harness import ROOT, typegen
from harness.cli import main


@pytest.mark.parametrize("language", sorted(typegen.OUTPUTS))
def test_checked_in_types_are_not_stale(admin, language):
    path = ROOT / typegen.OUTPUTS[language]
    generated = typegen.render_from(admin, language)
    assert path.exists(), f"{path} is missing: run `coachdb types {language}`"
    assert path.read_text(encoding="utf-8") == generated, f"{path} is stale: run `coachdb types {language}`"


def test_python_types_import_and_resolve():
    spec = importlib.util.spec_from_file_location("database_types", ROOT / typegen.OUTPUTS["python"])
    module = importlib.util.module_from_spec(spec)
    sys.modules["database_types"] = module  # get_type_hints resolves names through it
    try:
        spec.loader.exec_module(module)
        check_python_types(module)
    finally:
        del sys.modules["database_types"]


def check_python_types(module) -> None:
    hints = typing.get_type_hints(module.FinalizeOnboardingArgs)
    assert set(hints) == {"idempotency_key", "profile", "plan"}
    assert typing.get_type_hints(module.FinalizeOnboardingProfile)["goal"] == module.FitnessGoal
    assert module.FinalizeOnboardingArgs.__required_keys__ == {"idempotency_key", "profile"}
    assert typing.get_type_hints(module.ProfilesUpdate)["goal"] is typing.Never  # not granted
    assert module.ENUMS["fitness_goal"] == typing.get_args(module.FitnessGoal)


@pytest.mark.parametrize("language", sorted(typegen.OUTPUTS))
def test_cli_writes_the_types_and_check_tells_stale_from_fresh(db_url, tmp_path, capsys, language):
    out = tmp_path / typegen.OUTPUTS[language].name
    out.write_text("stale", encoding="utf-8")
    assert main(["types", language, "--url", db_url, "--out", str(out), "--check"]) == 1
    assert "is stale" in capsys.readouterr().err
    assert main(["types", language, "--url", db_url, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == (ROOT / typegen.OUTPUTS[language]).read_text(encoding="utf-8")
    assert main(["types", language, "--url", db_url, "--out", str(out), "--check"]) == 0
