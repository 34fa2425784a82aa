"""What a test's subprocess writes (stdout and stderr on one pipe), read line by line by a thread of its own: each line
is kept, copied to a log file, and wakes whoever waits on `changed`; so does the end of the output (the process
exited). A test waits for a line the process prints when it is ready, or for a state another process reaches, on
those wake-ups instead of polling on a timer."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class ProcessOutput:
    def __init__(self, process: subprocess.Popen, *, log_path: Path | None = None) -> None:
        self.process = process
        self.log_path = log_path
        self.lines: list[str] = []
        self.ended = False
        self.changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"output-of-{process.pid}")
        self._reader.start()

    def _read(self) -> None:
        log = self.log_path.open("a", encoding="utf-8") if self.log_path else None
        try:
            for line in iter(self.process.stdout.readline, b""):
                text = line.decode(errors="replace").rstrip("\n")
                if log:
                    log.write(text + "\n")
                    log.flush()
                with self.changed:
                    self.lines.append(text)
                    self.changed.notify_all()
        finally:
            if log:
                log.close()
            self.process.stdout.close()
            with self.changed:
                self.ended = True
                self.changed.notify_all()

    def wait_for(self, condition: Callable[[], T], *, timeout: float) -> T | None:
        """`condition()` checked now, then at each line the process writes and at its end: the first truthy result,
        or None once the output ended (the process exited) or `timeout` seconds passed."""
        with self.changed:
            result = None

            def holds() -> bool:
                nonlocal result
                result = condition()
                return bool(result) or self.ended

            self.changed.wait_for(holds, timeout=timeout)
            return result or None

    def wait_for_line(self, text: str, *, timeout: float) -> bool:
        """Whether the process wrote a line containing `text` (case-insensitive) within `timeout` seconds."""
        wanted = text.lower()
        return bool(self.wait_for(lambda: any(wanted in line.lower() for line in self.lines), timeout=timeout))

    def wake_on(self, event: threading.Event, *, timeout: float) -> None:
        """Wake this output's waiters when `event` is set (something outside the process, such as a request the
        process made arriving at a test's receiver), so they can wait for it and for the process's end at once."""

        def relay() -> None:
            if event.wait(timeout):
                with self.changed:
                    self.changed.notify_all()

        threading.Thread(target=relay, daemon=True).start()

    def tail(self, characters: int = 3000) -> str:
        with self.changed:
            return "\n".join(self.lines)[-characters:]
