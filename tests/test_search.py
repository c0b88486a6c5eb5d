"""ferronet.search and ``ferronet search``: real Optuna studies, trials on real Dask clusters on loopback.

Every search here trains a small MultiLayerNet (784-16-10) for two or three
epochs on a few hundred synthetic rows (a class-dependent bright feature:
learnable in one epoch), so a trial takes milliseconds and the time goes to
Dask.  One local cluster of two worker processes is shared by most tests;
one test starts its own through ``search(n_workers=2)``, another kills a
worker process, and a module fixture starts ``dask scheduler`` and
``dask worker`` as separate processes.  PostgreSQL runs when its server
binaries are installed (Debian's ``postgresql``), else that test skips.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
distributed = pytest.importorskip("distributed")

import cloudpickle  # noqa: E402 - distributed's dependency, there whenever distributed is
from optuna.distributions import CategoricalDistribution  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

import ferronet  # noqa: E402
from ferronet.cli import main  # noqa: E402
from ferronet.search import NetworkSpec, SearchResult, local_cluster, log_uniform, search  # noqa: E402

# the builders below run on the workers, which cannot import this test module: send them by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROOT = Path(ferronet.__file__).resolve().parent.parent
SPEC = NetworkSpec("mlp", (784,), hidden=(16,))
#: learning rates where one epoch already learns the synthetic data (``GOOD_LR``) and where nothing is learnt
GOOD_LR, USELESS_LR = 0.2, 1e-7
SPACE = {"lr": log_uniform(0.05, 0.3)}
TRIAL_KW = dict(epochs=2, batch_size=40, verbose=False)


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, t)``: ``n`` rows of 784 float32 features (noise plus a bright feature 70 * label) and int64 labels."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 10, n)
    x = rng.normal(0.0, 0.2, (n, 784)).astype(np.float32)
    x[np.arange(n), 70 * t + 5] += 4.0
    return x, t


X, T = synthetic(300, 0)
X_TEST, T_TEST = synthetic(100, 1)


def crash_or_build(params, seed):
    """A builder whose ``mode`` param decides: "ok" builds SPEC, "raise" raises, "die" kills the worker process."""
    if params["mode"] == "raise":
        raise RuntimeError("boom: this configuration cannot be built")
    if params["mode"] == "die":
        os._exit(3)
    return SPEC(params, seed)


def enqueued_study(pruner, *params: dict) -> "optuna.Study":
    """A maximising in-memory study whose first trials get ``params``, in order."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0), pruner=pruner)
    for p in params:
        study.enqueue_trial(p)
    return study


def states(result: SearchResult) -> list[TrialState]:
    return [t.state for t in result.study.get_trials(deepcopy=False)]


def stored_states(url: str, name: str) -> list[TrialState]:
    """The trial states of study ``name`` as a fresh connection to ``url`` reads them."""
    storage = optuna.storages.RDBStorage(url)
    try:
        return [t.state for t in optuna.load_study(study_name=name, storage=storage).trials]
    finally:
        storage.engine.dispose()


@pytest.fixture(scope="module")
def client():
    """A client of a local cluster of two worker processes (ferronet's ``local_cluster``), shared by the module."""
    with local_cluster(2) as cluster, distributed.Client(cluster) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


# ---------------------------------------------------------------------- a search on a local cluster


def test_seeded_search_on_a_local_cluster_of_two_processes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = search(SPEC, X, T, X_TEST, T_TEST, space=SPACE, n_trials=4, sampler="random", pruner="none", seed=3,
                    n_workers=2, output=out, **TRIAL_KW)
    assert result.trials == [0, 1, 2, 3]
    assert states(result) == [TrialState.COMPLETE] * 4
    assert result.settings["cluster"]["workers"] == 2 and result.settings["cluster"]["local"]
    workers = {t.user_attrs["worker"] for t in result.study.trials}
    assert all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert 0.05 <= result.best_params["lr"] <= 0.3
    assert result.best_value == max(t.value for t in result.study.trials)
    assert 0.5 < result.best_value <= 1.0  # the data are learnt
    assert 0.0 <= result.test_acc <= 1.0
    assert result.test_acc == pytest.approx(float(result.best_network.accuracy(X_TEST, T_TEST)))

    summary = json.loads((out / "summary.json").read_text())
    assert summary["best"]["trial"] == result.best_trial.number
    assert summary["best"]["params"] == result.best_params
    assert summary["best"]["test_acc"] == pytest.approx(result.test_acc)
    assert summary["this_search"] == {"trials": [0, 1, 2, 3], "complete": 4, "pruned": 0, "fail": 0}
    assert [t["state"] for t in summary["trials"]] == ["complete"] * 4
    assert all(len(t["val_acc_per_epoch"]) == 2 for t in summary["trials"])
    assert summary["space"] == {"lr": {"kind": "log-uniform", "low": 0.05, "high": 0.3}}

    loaded = SPEC({}, 0)  # another seed: other weights until the file is loaded
    loaded.load_params(out / "best.npz")
    assert float(loaded.accuracy(X_TEST, T_TEST)) == pytest.approx(result.test_acc)
    if _has_matplotlib():
        assert (out / "curves.png").stat().st_size > 0


def _has_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def test_a_seeded_search_repeats(client) -> None:
    runs = [search(SPEC, X, T, space=SPACE, n_trials=3, sampler="random", pruner="none", seed=11, client=client,
                   **TRIAL_KW) for _ in range(2)]
    first, second = ([(t.params, t.user_attrs["seed"], t.value) for t in r.study.trials] for r in runs)
    assert first == second
    assert len({p["lr"] for p, _, _ in first}) == 3  # three samples, not one repeated
    other = search(SPEC, X, T, space=SPACE, n_trials=3, sampler="random", pruner="none", seed=12, client=client,
                   **TRIAL_KW)
    assert [t.params for t in other.study.trials] != [p for p, _, _ in first]


@pytest.mark.parametrize("pruner", [
    optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0),
    optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
], ids=["median", "successive-halving"])
def test_a_hopeless_trial_is_pruned_after_its_first_epoch(client, pruner) -> None:
    study = enqueued_study(pruner, {"lr": GOOD_LR}, {"lr": USELESS_LR})
    result = search(SPEC, X, T, X_TEST, T_TEST, space={"lr": log_uniform(1e-8, 1.0)}, study=study, n_trials=2,
                    epochs=3, batch_size=40, parallel=1, client=client, verbose=False)
    assert states(result) == [TrialState.COMPLETE, TrialState.PRUNED]
    finished, pruned = result.study.trials
    assert finished.user_attrs["epochs"] == 3 and sorted(finished.intermediate_values) == [1, 2, 3]
    assert pruned.user_attrs["epochs"] == 1 and list(pruned.intermediate_values) == [1]
    assert pruned.value == pruned.intermediate_values[1] < finished.intermediate_values[1]
    assert result.counts() == {"complete": 1, "pruned": 1, "fail": 0}
    assert result.best_trial.number == 0


def test_the_named_pruners_and_samplers_are_optunas(client) -> None:
    result = search(SPEC, X, T, space=SPACE, n_trials=2, sampler="tpe", pruner="successive-halving", seed=0,
                    client=client, **TRIAL_KW)
    assert isinstance(result.study.sampler, optuna.samplers.TPESampler)
    assert isinstance(result.study.pruner, optuna.pruners.SuccessiveHalvingPruner)
    assert result.settings["pruner"] == "SuccessiveHalvingPruner"
    with pytest.raises(ValueError, match="unknown pruner 'hyperband'"):
        search(SPEC, X, T, space=SPACE, pruner="hyperband", client=client, **TRIAL_KW)


def test_a_trial_that_raises_is_recorded_and_the_search_goes_on(client, tmp_path: Path) -> None:
    study = enqueued_study(None, {"mode": "ok"}, {"mode": "raise"}, {"mode": "ok"})
    result = search(crash_or_build, X, T, X_TEST, T_TEST, space={"mode": CategoricalDistribution(["ok", "raise"])},
                    fixed_params={"lr": GOOD_LR}, study=study, n_trials=3, parallel=1, client=client,
                    output=tmp_path, **TRIAL_KW)
    assert states(result) == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert result.study.trials[1].user_attrs["error"] == "RuntimeError: boom: this configuration cannot be built"
    assert result.best_trial.number in (0, 2) and 0.0 <= result.test_acc <= 1.0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["trials"][1]["state"] == "fail" and "boom" in summary["trials"][1]["error"]
    assert summary["this_search"]["fail"] == 1


def test_a_search_where_every_trial_fails_has_no_best(client, tmp_path: Path) -> None:
    result = search(crash_or_build, X, T, X_TEST, T_TEST, space={"mode": CategoricalDistribution(["raise"])},
                    n_trials=2, seed=0, client=client, output=tmp_path, **TRIAL_KW)
    assert states(result) == [TrialState.FAIL] * 2
    assert result.best_trial is None and result.test_acc is None and result.best_network is None
    assert json.loads((tmp_path / "summary.json").read_text())["best"] is None
    assert not (tmp_path / "best.npz").exists()


def test_a_killed_worker_fails_its_trial_and_the_search_goes_on() -> None:
    study = enqueued_study(None, {"mode": "ok"}, {"mode": "die"}, {"mode": "ok"}, {"mode": "ok"})
    result = search(crash_or_build, X, T, space={"mode": CategoricalDistribution(["ok", "die"])},
                    fixed_params={"lr": GOOD_LR}, study=study, n_trials=4, parallel=1, n_workers=2, **TRIAL_KW)
    assert states(result) == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]
    assert "worker process died" in result.study.trials[1].user_attrs["error"]


# ---------------------------------------------------------------------- storage


def test_an_sqlite_study_is_continued_by_the_next_search(client, tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    first = search(SPEC, X, T, X_TEST, T_TEST, space=SPACE, n_trials=2, sampler="random", pruner="none", seed=5,
                   storage=db, study_name="s", client=client, **TRIAL_KW)
    assert db.is_file() and first.settings["storage"] == f"sqlite:///{db}"
    # a second session, learning nothing: the best trial stays one of the first session's
    second = search(SPEC, X, T, X_TEST, T_TEST, space={"lr": log_uniform(1e-8, 1e-7)}, n_trials=2,
                    sampler="random", pruner="none", seed=6, storage=str(db), study_name="s", client=client,
                    **TRIAL_KW)
    assert second.trials == [2, 3] and len(second.study.trials) == 4
    assert second.counts() == {"complete": 2, "pruned": 0, "fail": 0}
    assert second.best_trial.number == first.best_trial.number
    # trained again from its params and seed in this process: the same network as on the worker
    assert second.test_acc == first.test_acc
    assert stored_states(f"sqlite:///{db}", "s") == [TrialState.COMPLETE] * 4


def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own in a temporary directory, on a loopback port; yields its URL."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    pytest.importorskip("psycopg", reason="the PostgreSQL driver: pip install 'psycopg[binary]'")
    # initdb refuses to run as root: then run the server as the postgres user, in a directory it owns
    as_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = None
        if runuser is None or owner is None:
            pytest.skip("running as root without a postgres user to run the server as")
        as_user = [runuser, "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="ferronet-pg-"))
    data = root / "data"
    if as_user:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    started = False
    try:
        subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "ferronet",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                        "-t", "60", "-o", f"-p {port} -h 127.0.0.1 -k {root} -F", "start"],
                       check=True, capture_output=True, timeout=90)
        started = True
        yield f"postgresql+psycopg://ferronet@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_a_postgresql_study(client, postgres_url: str) -> None:
    first = search(SPEC, X, T, space=SPACE, n_trials=2, sampler="random", pruner="none", seed=1,
                   storage=postgres_url, study_name="pg", client=client, **TRIAL_KW)
    assert first.settings["storage"].startswith("postgresql+psycopg://ferronet@127.0.0.1:")
    second = search(SPEC, X, T, space=SPACE, n_trials=1, sampler="random", pruner="none", seed=2,
                    storage=postgres_url, study_name="pg", client=client, **TRIAL_KW)
    assert second.trials == [2]
    assert stored_states(postgres_url, "pg") == [TrialState.COMPLETE] * 3


def test_a_storage_that_cannot_be_opened_is_one_storage_error(tmp_path: Path) -> None:
    from ferronet.search import StorageError

    with pytest.raises(StorageError, match="does not exist"):
        search(SPEC, X, T, storage=tmp_path / "no" / "study.db", **TRIAL_KW)
    with pytest.raises(StorageError, match=r"postgresql://me:\*\*\*@127.0.0.1:1/db") as exc:
        search(SPEC, X, T, storage="postgresql://me:secret@127.0.0.1:1/db", **TRIAL_KW)
    assert "secret" not in str(exc.value)


# ---------------------------------------------------------------------- a cluster started separately


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory: pytest.TempPathFactory):
    """``dask scheduler`` and ``dask worker`` (one process, one thread) started as commands on loopback."""
    dask_cli = Path(sys.executable).parent / "dask"
    if not dask_cli.exists():
        pytest.skip("the dask command line is not installed next to this Python")
    command = [str(dask_cli)]
    directory = tmp_path_factory.mktemp("dask")
    file = directory / "scheduler.json"
    processes = []

    def start(name: str, *args: str) -> None:
        with open(directory / f"{name}.log", "wb") as log:  # the child keeps its own descriptor
            processes.append(subprocess.Popen([*command, name, *args], stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(file))
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip().endswith("}"):
            if processes[0].poll() is not None or time.monotonic() > deadline:
                pytest.fail("dask scheduler did not start: " + (directory / "scheduler.log").read_text()[-2000:])
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        start("worker", "--scheduler-file", str(file), "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
              "--host", "127.0.0.1")
        with distributed.Client(address, timeout=30) as c:
            c.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_a_scheduler_started_separately_runs_the_trials_alike(client, scheduler_address: str) -> None:
    kwargs = dict(space=SPACE, n_trials=2, sampler="random", pruner="none", seed=21, **TRIAL_KW)
    there = search(SPEC, X, T, X_TEST, T_TEST, scheduler=scheduler_address, **kwargs)
    assert there.settings["cluster"] == {"scheduler": scheduler_address, "workers": 1, "task_slots": 1,
                                         "parallel": 1, "local": False}
    here = search(SPEC, X, T, X_TEST, T_TEST, client=client, **kwargs)
    # a trial is a function of its params and seed: the same results on either cluster
    assert [(t.params, t.value) for t in there.study.trials] == [(t.params, t.value) for t in here.study.trials]
    assert there.test_acc == here.test_acc


def test_the_command_line_searches_on_a_separate_scheduler(tiny_fashion, scheduler_address: str,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "ferronet", "search", "mlp", "--no-download", "--hidden", "16", "--trials", "2",
            "--epochs", "2", "--batch-size", "32", "--lr", "0.01:0.3", "--weight-decay", "0", "--sampler", "random",
            "--seed", "4", "--scheduler", scheduler_address, "--out", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "Hyper-Parameter Optimization Result" in proc.stdout and "best: trial " in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train_samples"] == 96 and summary["validation_samples"] == 24 and summary["test_samples"] == 50
    assert summary["fixed_params"] == {"weight_decay": 0.0} and set(summary["best"]["params"]) == {"lr"}
    assert 0.0 <= summary["best"]["test_acc"] <= 1.0
    assert (out / "study.db").is_file() and (out / "best.npz").is_file()
    # the same command again continues the study in out/study.db
    again = subprocess.run(argv[:-2] + ["--out", str(out), "--quiet"], capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("\n") == 2 and "best: trial" in again.stdout  # the heading and the best line
    assert json.loads((out / "summary.json").read_text())["this_search"]["trials"] == [2, 3]


# ---------------------------------------------------------------------- the command line in this process


def test_the_command_line_on_a_local_cluster(tiny_fashion, tmp_path: Path, capsys) -> None:
    out = tmp_path / "local"
    assert main(["search", "mlp", "--no-download", "--hidden", "16", "--trials", "2", "--epochs", "1",
                 "--train-samples", "100", "--workers", "2", "--pruner", "none", "--storage", "memory",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "100 training images (0.2 held out for validation), 50 test images" in printed
    assert "2 Dask workers" in printed and "test accuracy" in printed
    assert not (out / "study.db").exists() and (out / "summary.json").is_file()


@pytest.mark.parametrize("argv, message", [
    (["resnet"], "argument MODEL: invalid choice: 'resnet'"),
    (["mlp", "--trials", "0"], "argument --trials: must be at least 1, got 0"),
    (["mlp", "--epochs", "two"], "argument --epochs: expected a whole number, got 'two'"),
    (["mlp", "--lr", "1e-2:1e-6"], "argument --lr: expected a range LOW:HIGH with 0 < LOW < HIGH"),
    (["mlp", "--weight-decay", "-1"], "argument --weight-decay: expected a range"),
    (["mlp", "--validation-split", "1"], "argument --validation-split: must lie strictly between 0 and 1"),
    (["mlp", "--timeout", "nan"], "argument --timeout: must be a number of seconds > 0"),
    (["mlp", "--sampler", "grid"], "argument --sampler: invalid choice: 'grid'"),
    (["mlp", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "not allowed with argument"),
])
def test_bad_arguments_exit_2_with_one_error_line(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("ferronet search: error: ") and message in err, err
    assert err.rstrip().endswith("(see ferronet search --help)")


@pytest.mark.parametrize("make_argv, code, message", [
    (lambda d: ["--lr", "0.1", "--weight-decay", "0"], 2, "nothing to search: give --lr or --weight-decay a range"),
    (lambda d: ["--out", str(d / "no" / "dir")], 1, "does not exist"),
    (lambda d: ["--scheduler", "localhost"], 2, "a scheduler address is tcp://HOST:PORT, got 'localhost'"),
    (lambda d: ["--storage", str(d / "no" / "study.db")], 1, "does not exist"),
    (lambda d: ["--storage", "postgresql://me:secret@127.0.0.1:1/db"], 1, "cannot open the study storage"),
    (lambda d: ["--train-samples", "3"], 2, "validation"),
])
def test_option_errors_are_one_line(make_argv, code: int, message: str, tiny_fashion, tmp_path: Path,
                                    capsys) -> None:
    argv = ["search", "mlp", "--no-download", "--trials", "1", "--epochs", "1", "--quiet", "--out",
            str(tmp_path / "o"), *make_argv(tmp_path)]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("ferronet search: ") and message in err, err
    assert "secret" not in err


def test_a_scheduler_that_does_not_answer_is_one_line(tiny_fashion, tmp_path: Path, monkeypatch, capsys) -> None:
    from ferronet.search import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    port = _free_port()  # nobody listens there
    assert main(["search", "mlp", "--no-download", "--trials", "1", "--epochs", "1", "--quiet", "--scheduler",
                 f"tcp://127.0.0.1:{port}", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"no Dask scheduler answered at tcp://127.0.0.1:{port}" in err, err


def test_help_and_the_missing_extra(tmp_path: Path) -> None:
    blocked = ("import sys; sys.modules['optuna'] = None; sys.modules['distributed'] = None\n"
               "from ferronet.cli import main\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FERRONET_OFFLINE": "1"}
    helped = subprocess.run([sys.executable, "-c", blocked + "main(['search', '--help'])"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert helped.returncode == 0 and "--scheduler tcp://HOST:PORT" in helped.stdout, helped.stderr
    ran = subprocess.run([sys.executable, "-c", blocked + "sys.exit(main(['search', 'mlp', '--data', 'digits', "
                          f"'--out', {str(tmp_path / 'o')!r}]))"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert ran.returncode == 1
    assert ran.stderr.strip() == ("ferronet search: ferronet.search needs optuna and dask[distributed]: "
                                  "pip install 'ferronet[search]'"), ran.stderr
    imported = subprocess.run([sys.executable, "-c", blocked.replace("; sys.modules['distributed'] = None", "")
                               + "import ferronet.search"], capture_output=True, text=True, env=env, timeout=60)
    assert imported.returncode == 1
    assert imported.stderr.strip().splitlines()[-1] == ("ImportError: ferronet.search needs optuna: "
                                                        "pip install 'ferronet[search]'")


# ---------------------------------------------------------------------- scikit-learn through joblib's Dask backend


def test_randomized_search_cv_runs_on_dask_through_joblib(client) -> None:
    pytest.importorskip("sklearn")
    import joblib
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV

    from ferronet.sklearn import MLPClassifier
    from ferronet.search import set_worker_threads

    assert set(set_worker_threads(client).values()) == {max(1, len(os.sched_getaffinity(0)) // 2)}
    estimator = MLPClassifier(hidden_layer_sizes=(16,), optimizer="sgd", epochs=3, batch_size=40, dtype="float32",
                              random_state=0)
    grid = {"learning_rate": loguniform(0.05, 0.3), "alpha": [0.0, 1e-4]}
    cv = RandomizedSearchCV(estimator, grid, n_iter=3, cv=2, random_state=0, n_jobs=2)
    with client.as_current(), joblib.parallel_config(backend="dask"), distributed.get_task_stream(client) as ts:
        cv.fit(X, T)
    assert ts.data, "no task ran on the Dask workers"
    assert {task["worker"] for task in ts.data} <= set(client.nthreads())
    assert 0.05 <= cv.best_params_["learning_rate"] <= 0.3
    assert cv.best_score_ > 0.5 and 0.0 <= cv.score(X_TEST, T_TEST) <= 1.0
    assert len(cv.cv_results_["params"]) == 3
