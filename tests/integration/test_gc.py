"""gc through the CLI on the embedded AWS: it holds the environment's lock as a
deploy does, and never touches a function the tool does not manage."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from conftest import CliResult, Released

    Cli = Callable[..., CliResult]


def _versions(lam: Any, name: str) -> list[str]:
    listed = lam.list_versions_by_function(FunctionName=name)["Versions"]
    return sorted(v["Version"] for v in listed if v["Version"] != "$LATEST")


def _deletes(result: CliResult) -> list[str]:
    return [call for call in result.calls.mutating if call.startswith("Delete")]


def test_gc_refuses_while_the_environment_is_locked(released: Released, cli: Cli) -> None:
    assert cli("deploy", "--env", "dev", "--version", released.r1.version).code == 0
    dev = released.target()
    name = released.resource("ingest-v2")
    # a deploy in flight: it has published a version that no alias or record refers to yet
    dev.lam.update_function_configuration(FunctionName=name, Description="deploy in flight")
    in_flight = dev.lam.publish_version(FunctionName=name)["Version"]
    lock = dev.ledger.acquire(900, "deploy 0.2.0")

    result = cli("gc", "--env", "dev", "--keep", "1")

    assert result.code == 1, result.err
    assert "dev is locked by" in result.err and "(deploy 0.2.0)" in result.err
    assert _deletes(result) == []
    assert in_flight in _versions(dev.lam, name)
    held = dev.ledger.read_lock()
    assert held is not None and held.token == lock.token

    # a dry run writes nothing, so it takes no lock: it lists what would go
    dry = cli("--json", "gc", "--env", "dev", "--keep", "1", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"{name}:{in_flight}" in dry.json()["deleted"] and dry.calls.mutating == []

    dev.ledger.release(lock)
    done = cli("--json", "gc", "--env", "dev", "--keep", "1")
    assert done.code == 0, done.err
    assert done.json()["deleted"] == [f"{name}:{in_flight}"]
    assert in_flight not in _versions(dev.lam, name)
    assert dev.ledger.read_lock() is None  # released


def test_gc_never_deletes_versions_of_a_function_it_does_not_manage(
    released: Released, cli: Cli
) -> None:
    target = released.target()
    name = released.hand_made_function("ingest-v2", Publish=True)
    target.lam.update_function_configuration(FunctionName=name, Description="second")
    target.lam.publish_version(FunctionName=name)
    before = _versions(target.lam, name)
    assert len(before) == 2

    result = cli("--json", "gc", "--env", "dev", "--keep", "1")

    assert result.code == 0, result.err
    assert result.json()["deleted"] == []
    assert _deletes(result) == ["DeleteObject"]  # its lock, nothing else
    assert _versions(target.lam, name) == before


def test_gc_keeps_the_version_alias_live_runs_even_when_no_record_names_it(
    released: Released, cli: Cli
) -> None:
    assert cli("deploy", "--env", "dev", "--version", released.r1.version).code == 0
    dev = released.target()
    name = released.resource("ingest-v2")
    recorded = dev.lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    # an operator publishes a version and moves the alias to it by hand, then another one
    dev.lam.update_function_configuration(FunctionName=name, Description="hot fix by hand")
    by_hand = dev.lam.publish_version(FunctionName=name)["Version"]
    dev.lam.update_alias(FunctionName=name, Name="live", FunctionVersion=by_hand)
    dev.lam.update_function_configuration(FunctionName=name, Description="abandoned")
    abandoned = dev.lam.publish_version(FunctionName=name)["Version"]
    assert len({recorded, by_hand, abandoned}) == 3

    result = cli("--json", "gc", "--env", "dev", "--keep", "1")

    assert result.code == 0, result.err
    assert result.json()["deleted"] == [f"{name}:{abandoned}"]
    assert _versions(dev.lam, name) == sorted([recorded, by_hand])
    live = dev.lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
    assert live == by_hand
