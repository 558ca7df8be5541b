"""Shared helpers of the list tests: a throw-away signing key, a signed copy of a fixture and
a real HTTP server on 127.0.0.1 serving files of a folder."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from kitvet.lists import signing
from kitvet.lists.format import read_document

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def keypair(tmp_path: Path) -> tuple[Path, Path]:
    """(private key path, directory holding the matching public key)."""
    keys = tmp_path / "keys"
    priv = tmp_path / "private.pem"
    signing.generate_keypair(priv, keys)
    return priv, keys


@pytest.fixture()
def signed_small(tmp_path: Path, keypair: tuple[Path, Path]) -> Path:
    """A signed copy of fixtures/small.yaml in tmp_path."""
    priv, _ = keypair
    dst = tmp_path / "small.yaml"
    shutil.copy(FIXTURES / "small.yaml", dst)
    sig = signing.sign_document(read_document(dst), signing.load_private_key(priv))
    signing.write_signature(dst, sig)
    return dst


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves files from ``root`` with ETag and Last-Modified, answering 304 when unchanged."""

    root: Path
    log: list[tuple[str, str, dict]]

    def do_GET(self) -> None:
        p = self.root / self.path.lstrip("/")
        self.log.append(("GET", self.path, dict(self.headers)))
        if not p.is_file():
            self.send_error(404)
            return
        data = p.read_bytes()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        last_modified = self.date_time_string(int(p.stat().st_mtime))
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server(tmp_path: Path):
    """(base URL, the folder it serves, the log of requests with their headers)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = type("H", (_Handler,), {"root": root, "log": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, handler.log
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def store(tmp_path: Path, monkeypatch) -> Path:
    """The store of fetched lists, also the one every command reads (KITVET_LISTS_DIR)."""
    d = tmp_path / "store"
    monkeypatch.setenv("KITVET_LISTS_DIR", str(d))
    return d
