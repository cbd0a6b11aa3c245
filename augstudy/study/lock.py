"""A lock file that stops two runs from writing the same study folder at once.

``<study>/.lock`` holds the owner's pid, hostname and process start time. A lock whose owner is
gone (same host, pid dead, a zombie, or a different process now using the pid) is stale and is
taken over; a live owner makes :class:`StudyLock` raise :class:`StudyLockedError`.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Optional

import psutil

from ..errors import StudyLockedError


def _start_time(pid: int) -> Optional[float]:
    try:
        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            return None
        return p.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def _owner_alive(info: dict) -> bool:
    """False when the lock's owner is certainly gone (only decidable on the same host)."""
    if info.get("hostname") != socket.gethostname():
        return True
    started = _start_time(int(info.get("pid", -1)))
    if started is None:
        return False
    recorded = info.get("process_started")
    return recorded is None or abs(started - float(recorded)) < 1.0


def _parse(path: Path) -> dict:
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    ok = (isinstance(info, dict) and isinstance(info.get("pid", -1), int)
          and isinstance(info.get("process_started"), (int, float, type(None))))
    return info if ok else {}


class StudyLock:
    """Context manager: hold ``<study_dir>/.lock`` while running; released on exit."""

    def __init__(self, study_dir: Path | str) -> None:
        self.path = Path(study_dir) / ".lock"
        self.held = False

    def _read(self) -> dict:
        """The lock's owner; {} when the file is missing, being written, or garbage (not a JSON object)."""
        return _parse(self.path)

    def acquire(self) -> "StudyLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "hostname": socket.gethostname(),
              "process_started": _start_time(os.getpid()), "locked_at": time.time()}
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                info = self._read()
                if not info:  # being written right now, or garbage left by a crash
                    time.sleep(0.2)
                    info = self._read()
                if not info and self.path.exists():
                    try:
                        held = self.path.read_text(errors="replace")[:40]
                    except OSError:
                        held = "?"
                    print(f"damaged file {self.path}: not a lock written by augstudy ({held!r}); taken over",
                          file=sys.stderr)
                if info and _owner_alive(info):
                    raise StudyLockedError(
                        f"study folder {self.path.parent} is in use by process {info.get('pid')} on "
                        f"{info.get('hostname')} (lock file {self.path}); wait for it to finish, or delete "
                        f"the lock file if that process is gone") from None
                self._take_over(info)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return self
        raise StudyLockedError(f"could not take the lock {self.path}; another run keeps taking it")

    def _take_over(self, stale: dict) -> None:
        """Move a stale lock aside (rename is atomic) and drop it; put back a fresh one moved by a race."""
        aside = self.path.with_name(f".lock.stale.{os.getpid()}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        moved = _parse(aside)
        if moved and moved != stale:  # another taker already replaced it: that lock is live
            os.replace(aside, self.path)
        else:
            aside.unlink(missing_ok=True)

    def release(self) -> None:
        if self.held and self._read().get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> "StudyLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
