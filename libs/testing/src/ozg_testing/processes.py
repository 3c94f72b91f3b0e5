"""Services as OS processes: `make run` supervises them, crash tests SIGKILL them."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from ozg_common.settings import PROJECT_ROOT


class ServiceProcess:
    """A service started as its own OS process (`python -m <module>`), for crash tests."""

    def __init__(
        self,
        module: str,
        env: Mapping[str, str],
        *,
        port: int,
        log_path: Path | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.module = module
        self.env = {**os.environ, **env}
        self.port = port
        self.args = args
        self.log_path = log_path or PROJECT_ROOT / "var" / "test-logs" / f"{module}-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, *, wait_ready: bool = True, within: float = 60) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once
            [sys.executable, "-m", self.module, *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if wait_ready:
            await self.wait_ready(within)

    async def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"{self.module} exited; see {self.log_path}")
                try:
                    if (await client.get(f"{self.base_url}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.module} did not start; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
