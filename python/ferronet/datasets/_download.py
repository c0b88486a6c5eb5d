"""Fetching a data set's files from public mirrors, checked by MD5.

Downloads are skipped when ``FERRONET_OFFLINE=1``.  Each request has a short
timeout, so a machine without network fails within seconds rather than
hanging.
"""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from ferronet.fileio import atomic_write

TIMEOUT_SECONDS = 10.0


class DownloadError(OSError):
    """No mirror delivered a file with the expected checksum."""


def offline() -> bool:
    """True when ``FERRONET_OFFLINE`` asks ferronet never to use the network."""
    return os.environ.get("FERRONET_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, dest: Path, md5: str) -> None:
    """Download ``url`` to ``dest``, all or nothing: ``dest`` appears only complete, checked and fsynced."""
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_write(dest) as out, urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as resp:
        for block in iter(lambda: resp.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
        if digest.hexdigest() != md5:
            raise DownloadError(f"{url}: MD5 {digest.hexdigest()} does not match the published {md5}")


def download(files: Mapping[str, str], mirrors: Sequence[str], dest_dir: Path) -> list[Path]:
    """Download each ``name -> md5`` of ``files`` into ``dest_dir``, trying ``mirrors`` in order.

    Files already present with the right checksum are kept.  Raises
    ``DownloadError`` listing every failed attempt; the first mirror that
    cannot be reached at all is given up on at once for the remaining files.
    """
    if offline():
        raise DownloadError("downloads are disabled (FERRONET_OFFLINE is set)")
    created = not dest_dir.exists()
    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        return _download_all(files, mirrors, dest_dir)
    except BaseException:
        if created and not any(dest_dir.iterdir()):
            dest_dir.rmdir()  # leave no empty directory behind a failed attempt
        raise


def _download_all(files: Mapping[str, str], mirrors: Sequence[str], dest_dir: Path) -> list[Path]:
    dead: set[str] = set()
    got: list[Path] = []
    for name, md5 in files.items():
        dest = dest_dir / name
        if dest.is_file() and _md5(dest) == md5:
            got.append(dest)
            continue
        failures = []
        for mirror in mirrors:
            if mirror in dead:
                continue
            url = mirror.rstrip("/") + "/" + name
            try:
                _fetch(url, dest, md5)
                break
            except urllib.error.HTTPError as exc:  # the mirror answered: try it again for the next file
                failures.append(f"{url}: HTTP {exc.code} {exc.reason}")
            except (urllib.error.URLError, socket.timeout, ConnectionError) as exc:
                dead.add(mirror)
                failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
            except (DownloadError, OSError) as exc:
                failures.append(f"{url}: {exc}")
        else:
            raise DownloadError("could not download " + name + ":\n    " + "\n    ".join(failures or ["no mirror left"]))
        got.append(dest)
    return got
