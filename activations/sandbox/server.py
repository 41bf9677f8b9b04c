"""Run the sandbox in a background thread (tests) or in the foreground (CLI).

    with serve_in_thread() as sandbox:          # a free port on 127.0.0.1
        sandbox.url("klaviyo")                  # http://127.0.0.1:PORT/klaviyo
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from activations.errors import UserError
from activations.sandbox.app import SandboxApp, create_app
from activations.sandbox.settings import PREFIXES, PROVIDERS, SandboxSettings


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}",
                        hint="pick another --port (0 picks a free one)") from exc
    sock.listen(128)
    return sock


class SandboxServer:
    """A running sandbox: its address and typed helpers for the control API."""

    def __init__(self, app: SandboxApp, server: uvicorn.Server, thread: threading.Thread,
                 port: int):
        self.app = app
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self._server = server
        self._thread = thread
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0)

    def url(self, provider: str) -> str:
        """The connector's ``base_url`` for a provider."""
        if provider not in PREFIXES:
            raise ValueError(f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")
        return self.base_url + PREFIXES[provider]

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self._http.post(path, json=body or {})
        answer.raise_for_status()
        return answer.json()

    def reset(self) -> None:
        self._post("/_sandbox/reset")

    def set_faults(self, provider: str = "all", **faults: Any) -> dict[str, Any]:
        """latency_ms, error_rate, status, drop_rate, rate_limit_storm, slow_jobs,
        failing_jobs, seed."""
        return self._post("/_sandbox/faults", {"provider": provider, **faults})

    def clear_faults(self, provider: str = "all") -> dict[str, Any]:
        return self.set_faults(provider)

    def set_limits(self, provider: str, windows: list[tuple[int, float]] | None = None,
                   concurrency: int | None = None) -> dict[str, Any]:
        return self._post("/_sandbox/limits", {
            "provider": provider, "concurrency": concurrency,
            "windows": [{"limit": n, "seconds": s} for n, s in windows or []]})

    def configure(self, **config: Any) -> dict[str, Any]:
        """webhook_url, job_advance ("poll" | "clock"), job_step_seconds."""
        return self._post("/_sandbox/config", config)

    def advance_clock(self, seconds: float) -> float:
        return float(self._post("/_sandbox/clock/advance", {"seconds": seconds})["now"])

    def settle_jobs(self) -> int:
        return int(self._post("/_sandbox/jobs/settle")["settled"])

    def person(self, provider: str, action: str, email: str,
               list_id: str | None = None) -> dict[str, Any]:
        """Simulate a person's unsubscribe / bounce / spam / open / click in the ESP."""
        return self._post(f"/_sandbox/{provider}/{action}", {"email": email, "list": list_id})

    def state(self, provider: str | None = None, members: int = 200) -> dict[str, Any]:
        params: dict[str, Any] = {"members": members}
        if provider:
            params["provider"] = provider
        answer = self._http.get("/_sandbox/state", params=params)
        answer.raise_for_status()
        return answer.json()

    def requests(self, provider: str | None = None) -> list[dict[str, Any]]:
        answer = self._http.get("/_sandbox/requests",
                                params={"provider": provider} if provider else {})
        answer.raise_for_status()
        return answer.json()

    def _get(self, path: str, **params: Any) -> Any:
        answer = self._http.get(path, params=params)
        answer.raise_for_status()
        return answer.json()

    def writes(self, provider: str, since: int = 0) -> list[dict[str, Any]]:
        """Accepted writes in order: ``{seq, record, digest, at}`` (GET /_sandbox/writes)."""
        return list(self._get("/_sandbox/writes", provider=provider, since=since))

    def write_counts(self, provider: str) -> list[dict[str, Any]]:
        """``{record, digest, count}`` per record and content (GET /_sandbox/writes/counts)."""
        return list(self._get("/_sandbox/writes/counts", provider=provider))

    def pacing(self) -> dict[str, Any]:
        """Per provider ``{announced, early, early_requests}`` (GET /_sandbox/pacing)."""
        return dict(self._get("/_sandbox/pacing"))

    def webhooks(self) -> list[dict[str, Any]]:
        answer = self._http.get("/_sandbox/webhooks")
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._http.close()
        self.app.sandbox.store.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_in_thread(*, port: int = 0, state_path: Path | str | None = None,
                    settings: SandboxSettings | None = None) -> SandboxServer:
    """Start the sandbox on 127.0.0.1 in a daemon thread; returns once it answers."""
    settings = (settings or SandboxSettings()).model_copy()
    if state_path is not None:
        settings.state_dir = Path(state_path)
    app = create_app(settings)
    sock = bind("127.0.0.1", port)
    actual = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"sandbox-{actual}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    return SandboxServer(app, server, thread, actual)


def serve_forever(*, host: str, port: int, settings: SandboxSettings) -> None:
    """Run in the foreground until interrupted (the CLI)."""
    app = create_app(settings)
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="info", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        app.sandbox.store.close()
