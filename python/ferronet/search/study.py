"""The Optuna study a search fills: where it is stored, and its sampler and pruner.

Storage (``storage=``):

* None - in memory: the study lives as long as the process (the default of
  :func:`ferronet.search.search`);
* a file path (``study.db``) or an ``sqlite:///`` URL - an SQLite file
  (the default of ``ferronet search``: ``OUT/study.db``), kept after the
  search, so a study can be continued and inspected later;
* a ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE`` URL (or any other
  database URL SQLAlchemy and Optuna take) - a database server, for
  studies shared by several searches: e.g. one ``ferronet search`` per
  machine feeding one study.  It needs a driver: ``pip install 'psycopg[binary]'``
  (``postgresql+psycopg://`` with SQLAlchemy before 2.1, whose default is psycopg2).

Only the process running the search opens the storage; the Dask workers
never do (see :mod:`ferronet.search.runner`), so SQLite is safe even when
trials run on many machines.  An existing study of the same name is
continued (``load_if_exists``).

Samplers (:data:`SAMPLERS`): ``"tpe"`` (Optuna's Tree-structured Parzen
Estimator) and ``"random"`` (the book's random search), or any Optuna
sampler object.  Pruners (:data:`PRUNERS`): ``"median"``,
``"successive-halving"``, ``"none"``, or any Optuna pruner object.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Union

import optuna

PathLike = Union[str, os.PathLike]

#: what a search maximises: the validation accuracy after each epoch
METRIC = "val_acc"

SAMPLERS: dict[str, Callable[[int | None], optuna.samplers.BaseSampler]] = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}

PRUNERS: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
    "median": optuna.pruners.MedianPruner,
    "successive-halving": optuna.pruners.SuccessiveHalvingPruner,
    "none": optuna.pruners.NopPruner,
}

#: the distributions of SQLAlchemy's database drivers, by driver name (the ``+driver`` of a URL, or
#: the dialect's default: ``postgresql://`` is psycopg from SQLAlchemy 2.1 on, psycopg2 before)
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pg8000": "pg8000",
                   "asyncpg": "asyncpg", "pymysql": "pymysql", "mysqldb": "mysqlclient"}


class StorageError(ValueError):
    """A storage that cannot be opened: a bad URL, a missing driver, an unreachable database."""


def storage_url(storage: PathLike | None) -> str | None:
    """``storage`` as Optuna takes it: None (in memory), a URL as given, a file path as ``sqlite:///ABSOLUTE``.

    A path's directory must exist (StorageError otherwise).
    """
    if storage is None:
        return None
    text = os.fspath(storage)
    if "://" in text:
        return text
    path = Path(text).expanduser().absolute()
    if not path.parent.is_dir():
        raise StorageError(f"the study's directory {path.parent} does not exist")
    return f"sqlite:///{path}"


def redacted(url: str | None) -> str:
    """``url`` with any password masked, for messages and summaries ("in memory" for None)."""
    if url is None:
        return "in memory"
    from sqlalchemy.engine import make_url  # optuna's RDB storage depends on SQLAlchemy

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: say nothing of its parts
        return url.split("://", 1)[0] + "://..."


def make_sampler(sampler: str | optuna.samplers.BaseSampler, seed: int | None) -> optuna.samplers.BaseSampler:
    """The sampler named (seeded with ``seed``) or given."""
    if isinstance(sampler, optuna.samplers.BaseSampler):
        return sampler
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}: use one of {', '.join(SAMPLERS)} or an Optuna sampler")
    return SAMPLERS[sampler](seed)


def make_pruner(pruner: str | optuna.pruners.BasePruner | None) -> optuna.pruners.BasePruner:
    """The pruner named or given (None: no pruning)."""
    if pruner is None:
        return optuna.pruners.NopPruner()
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    if pruner not in PRUNERS:
        raise ValueError(f"unknown pruner {pruner!r}: use one of {', '.join(PRUNERS)} or an Optuna pruner")
    return PRUNERS[pruner]()


def _driver_hint(url: str) -> str:
    """`` (pip install 'psycopg[binary]')``: how to install the driver SQLAlchemy picks for ``url``."""
    from sqlalchemy.engine import make_url

    try:
        driver = make_url(url).get_dialect().driver
    except Exception:  # noqa: BLE001 - an unknown dialect: no hint
        return ""
    package = DRIVER_PACKAGES.get(driver)
    return f" (pip install '{package}')" if package else ""


def open_storage(storage: PathLike | None) -> optuna.storages.RDBStorage | None:
    """The database of ``storage`` (see the module's docstring), connected; None for in memory.

    Every problem (a bad URL, a missing database driver, a server that does
    not answer) is a :class:`StorageError` naming the storage, its password
    masked.  Close its connections with :func:`release_connections` when done.
    """
    url = storage_url(storage)
    if url is None:
        return None
    try:
        return optuna.storages.RDBStorage(url)
    except ImportError as exc:
        raise StorageError(f"cannot open the study storage {redacted(url)}: a database driver is missing "
                           f"({exc}){_driver_hint(url)}") from exc
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's errors: a bad URL, a database that is down
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot open the study storage {redacted(url)}: {first_line}") from exc


def release_connections(storage: optuna.storages.RDBStorage | None) -> None:
    """Close the pooled database connections of ``storage`` (SQLAlchemy's ``engine.dispose()``).

    A study in it stays usable: it connects again when it is next read.
    Without this the connections stay open until garbage collection (a
    PostgreSQL server counts them; psycopg warns about each).
    """
    if storage is not None:
        storage.engine.dispose()


def open_study(storage: optuna.storages.RDBStorage | None, study_name: str,
               sampler: str | optuna.samplers.BaseSampler, pruner: str | optuna.pruners.BasePruner | None,
               seed: int | None) -> optuna.Study:
    """Create the study ``study_name`` in ``storage`` (:func:`open_storage`; None: in memory), or
    continue it.  It maximises the validation accuracy; a problem with the storage is a :class:`StorageError`.
    """
    sampler_object, pruner_object = make_sampler(sampler, seed), make_pruner(pruner)
    where = "in memory" if storage is None else redacted(storage.url)
    try:
        return optuna.create_study(storage=storage, study_name=study_name, sampler=sampler_object,
                                   pruner=pruner_object, direction="maximize", load_if_exists=True)
    except ValueError as exc:  # e.g. a study of that name that minimises
        raise StorageError(f"cannot use the study {study_name!r} in {where}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's errors: a database that went down
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot open the study storage {where}: {first_line}") from exc


def ensure_maximizing(study: optuna.Study) -> None:
    """ValueError unless ``study`` (a given one) has one objective, maximised (the validation accuracy)."""
    if len(study.directions) != 1 or study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise ValueError("the study must maximise one value (the validation accuracy): "
                         "create it with direction='maximize'")
