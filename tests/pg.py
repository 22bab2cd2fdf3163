"""A real, throw-away PostgreSQL server for the test suite (BRIEFBOT_TEST_DATABASE=postgres).

The server comes from the operating system's packages (Debian: ``postgresql``; binaries under
/usr/lib/postgresql/<version>/bin, or on PATH, or in BRIEFBOT_TEST_PG_BIN). It is initialised
in a temporary folder, listens on 127.0.0.1 only, on a free port, with its socket in that
folder, trusts local connections, and is stopped and deleted at the end of the session.
PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` user.

Each test gets a fresh schema of one database (``search_path`` set in the URL), which is far
quicker than a database per test and just as isolated. ``BRIEFBOT_TEST_PG_URL`` points the
suite at a server you run yourself instead (a superuser URL; schemas are made in it).

Run on its own: ``python -m tests.pg`` starts a server, prints its URL and waits for Ctrl-C.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

BACKEND_VARIABLE = "BRIEFBOT_TEST_DATABASE"
SERVER_URL_VARIABLE = "BRIEFBOT_TEST_PG_URL"
DATABASE = "briefbot_test"
USER = "briefbot"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def wanted() -> bool:
    """Whether the suite runs on PostgreSQL (else SQLite, the default)."""
    value = os.environ.get(BACKEND_VARIABLE, "sqlite").strip().lower()
    if value not in ("sqlite", "postgres", "postgresql"):
        raise RuntimeError(f"{BACKEND_VARIABLE}={value!r}: expected sqlite or postgres")
    return value != "sqlite"


def _bin_dir() -> Path:
    if os.environ.get("BRIEFBOT_TEST_PG_BIN"):
        return Path(os.environ["BRIEFBOT_TEST_PG_BIN"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresMissing(
        "PostgreSQL server binaries not found: install them "
        "(apt-get install -y --no-install-recommends postgresql) or set BRIEFBOT_TEST_PG_BIN"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server: started by ``start``, or an existing one from a URL."""

    def __init__(self, admin_url: str, folder: Path | None = None, bin_dir: Path | None = None):
        self.admin_url = admin_url
        self.folder = folder
        self.bin_dir = bin_dir
        self._engine: Engine | None = None
        self._counter = itertools.count(1)

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = _bin_dir()
        folder = Path(tempfile.mkdtemp(prefix="briefbot-pg-"))
        data = folder / "data"
        as_root = os.geteuid() == 0
        prefix: list[str] = []
        if as_root:
            # initdb and postgres refuse root: the folder goes to the postgres user.
            shutil.chown(folder, "postgres", "postgres")
            folder.chmod(0o700)
            prefix = ["runuser", "-u", "postgres", "--"]
        port = _free_port()

        def run(*args: str) -> None:
            subprocess.run([*prefix, *args], check=True, capture_output=True, text=True)

        server = cls(f"postgresql+psycopg://{USER}@127.0.0.1:{port}/{DATABASE}", folder, bin_dir)
        try:
            run(
                str(bin_dir / "initdb"),
                "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
            # Durability is not wanted from a test server: no fsync, no full-page writes.
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200 -c shared_buffers=64MB"
            )
            run(
                str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                "-l", str(folder / "server.log"), "-w", "-t", "60", "start",
            )  # fmt: skip
            run(
                str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER,
                DATABASE,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            server.stop()
            raise RuntimeError(
                f"starting PostgreSQL failed: {exc.cmd}: {exc.stderr}\n{tail}"
            ) from None
        return server

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        return self._engine

    def fresh_url(self, prefix: str = "t") -> str:
        """The URL of a new, empty schema: what one test gets."""
        schema = f"{prefix}_{os.getpid()}_{next(self._counter)}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(self.admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.folder is None:
            return
        data = self.folder / "data"
        if self.bin_dir is not None and (data / "postmaster.pid").exists():
            prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            subprocess.run(
                [*prefix, str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                 "-w", "stop"],
                check=False, capture_output=True,
            )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def server_for_session() -> PostgresServer:
    """The suite's server: the one BRIEFBOT_TEST_PG_URL names, else a fresh one."""
    if os.environ.get(SERVER_URL_VARIABLE):
        return PostgresServer(os.environ[SERVER_URL_VARIABLE])
    return PostgresServer.start()


if __name__ == "__main__":
    running = PostgresServer.start()
    print(running.admin_url, flush=True)
    try:
        import signal

        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
