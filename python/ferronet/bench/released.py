"""Benchmark helper processes that wait for a start line: started once, released again and again.

A :class:`ReleasedProcesses` starts ``count`` processes running one
command.  Each prepares its work (data, warm-up) and prints ``ready``; then
for every line on its stdin it does the work once and prints ``done``; it
exits when stdin closes.  :meth:`ReleasedProcesses.release` writes the start
lines back to back and waits for every ``done``, which is what a timed
call of a case measures (the pipes add tens of microseconds).  Users:
the two training processes (``process_cases``) and ONNX Runtime's inference
(``inference_cases``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence


class ReleasedProcesses:
    """``count`` processes of ``cmd`` (environment ``env``), released together on each :meth:`release`.

    ``what`` names them in errors (``"torch training process"``).  Their
    stderr is inherited: a failing process's traceback lands in the
    benchmark's log.
    """

    def __init__(self, cmd: Sequence[str], count: int, env: Mapping[str, str], what: str) -> None:
        self.what = what
        self.processes = [subprocess.Popen(list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                           env=dict(env)) for _ in range(count)]
        self.ready = False

    def _expect(self, process: subprocess.Popen, word: str) -> None:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith(word):
            code = process.poll()
            raise RuntimeError(f"{self.what} sent {line.strip()!r} instead of {word!r}"
                               f" (exit code {code}; its stderr is in the log)")

    def release(self, count: int) -> None:
        """Start the first ``count`` processes (one start line each, written back to back) and wait for them."""
        if not self.ready:
            for process in self.processes:
                self._expect(process, "ready")
            self.ready = True
        chosen = self.processes[:count]
        for process in chosen:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in chosen:
            self._expect(process, "done")

    def close(self) -> None:
        """End every process (closing stdin ends its loop); kill one that does not exit within 30 s."""
        for process in self.processes:
            if process.stdin and not process.stdin.closed:
                try:
                    process.stdin.close()
                except OSError:  # it already died
                    pass
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
