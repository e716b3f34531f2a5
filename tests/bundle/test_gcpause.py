"""The collector is paused during bundle work and always switched back on; only the
command-line process (which ends with its command) freezes what is left instead of collecting."""

from __future__ import annotations

import gc

import pytest

from samepack.bundle.system import gcpause
from samepack.bundle.system.gcpause import gc_paused


@pytest.fixture(autouse=True)
def _thawed():
    yield
    gc.unfreeze()
    gc.enable()


def test_library_use_leaves_the_collector_as_it_was() -> None:
    frozen = gc.get_freeze_count()
    with gc_paused():
        assert not gc.isenabled()
        kept = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert kept


def test_the_command_line_freezes_what_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "freeze_after", True)
    with gc_paused():
        kept = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() >= len(kept)


def test_a_failure_never_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcpause, "freeze_after", True)
    frozen = gc.get_freeze_count()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled() and gc.get_freeze_count() == frozen
