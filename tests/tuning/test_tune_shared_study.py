"""Pieces that let several machines share one study: the PostgreSQL driver in the URL, a
race on Optuna's tables, and one tuning run per study however many commands start it.

The PostgreSQL server itself is in ``test_tune_postgres.py`` (slow)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import optuna
import pytest
from optuna.exceptions import ExperimentalWarning

from moalign.core.config import ConfigError
from moalign.tuning import components
from moalign.tuning.components import engine_url, make_storage
from moalign.tuning.output import LOCK_SUFFIX, PARENT_ATTR, first_opener
from moalign.tuning.spec import HeartbeatSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore", category=ExperimentalWarning)


def test_engine_url_gives_plain_postgresql_urls_the_installed_driver(
        monkeypatch: pytest.MonkeyPatch) -> None:
    installed: set[str] = {"psycopg"}
    monkeypatch.setattr(components, "_has_module", lambda name: name in installed)
    assert engine_url("postgresql://u:p@db:5432/optuna") == \
        "postgresql+psycopg://u:p@db:5432/optuna"
    assert engine_url("postgres://db/optuna") == "postgresql+psycopg://db/optuna"
    assert engine_url("postgresql+pg8000://db/optuna") == "postgresql+pg8000://db/optuna"
    assert engine_url("mysql://db/optuna") == "mysql://db/optuna"
    installed.add("psycopg2")  # SQLAlchemy's default driver
    assert engine_url("postgres://db/optuna") == "postgresql://db/optuna"
    installed.clear()
    with pytest.raises(ConfigError, match=r"moalign\[postgres\]"):
        engine_url("postgresql://u:secret@db/optuna")
    with pytest.raises(ConfigError) as err:
        make_storage("postgresql://u:secret@db/optuna", HeartbeatSpec())
    assert "secret" not in str(err.value)


def test_schema_race_errors_are_told_apart() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    race = IntegrityError("CREATE TABLE studies", {}, Exception(
        'duplicate key value violates unique constraint "pg_type_typname_nsp_index"'))
    exists = ProgrammingError("CREATE TABLE", {}, Exception('relation "studies" already '
                                                           "exists"))
    down = OperationalError("connect", {}, Exception("connection refused"))
    assert components._schema_race(race) and components._schema_race(exists)
    assert not components._schema_race(down)
    assert not components._schema_race(ValueError("duplicate"))


def test_first_opener_lets_one_process_create_the_tuning_run(tmp_path: Path) -> None:
    """While one opener holds the lock, another waits and then adopts the run it names;
    the lock study is gone afterwards."""
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    study = optuna.create_study(storage=make_storage(url, HeartbeatSpec()), study_name="s")
    other = optuna.load_study(study_name="s", storage=make_storage(url, HeartbeatSpec()))
    seen: list[bool] = []
    with first_opener(study) as first:
        assert first
        waiter = threading.Thread(target=lambda: seen.append(
            first_opener(other).__enter__()))
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive() and not seen  # waits for the run to be named
        study.set_user_attr(PARENT_ATTR, "run-of-the-first")
        waiter.join(10)
    assert seen == [False] and other.user_attrs[PARENT_ATTR] == "run-of-the-first"
    assert optuna.get_all_study_names(make_storage(url, HeartbeatSpec())) == ["s"]


def test_first_opener_takes_over_a_lock_left_by_a_dead_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'stale.db'}"
    store = make_storage(url, HeartbeatSpec())
    study = optuna.create_study(storage=store, study_name="s")
    optuna.create_study(storage=store, study_name="s" + LOCK_SUFFIX)  # holder died
    t0 = time.monotonic()
    with first_opener(study, timeout=0.5) as first:
        assert first and time.monotonic() - t0 >= 0.5
    assert optuna.get_all_study_names(store) == ["s"]
