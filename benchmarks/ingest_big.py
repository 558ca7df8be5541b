"""One very large upload: a gzipped CycloneDX JSON BOM of a million components.

    flock /work/bench.lock python benchmarks/ingest_big.py --components 1000000

Generates the BOM once (``benchmarks/.cache/cdx-<N>.json.gz``: npm-style components with
purls, versions, licenses and a SHA-256 each, as SBOM tools write them), starts ``kitvet
serve`` on a new estate (loopback, review off unless ``--review``), sends it and polls its job.
Reports the accept time (request sent → ``202``), the time until the job is done (parsed and
stored), the server's CPU seconds and its peak RSS (``VmHWM``, the whole process). Prints JSON.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from kitvet.server.testing import ServeProcess

HERE = Path(__file__).resolve().parent


def bom_file(n: int) -> Path:
    """The cached gzipped BOM of ``n`` components (written on first use)."""
    cache = HERE / ".cache"
    cache.mkdir(exist_ok=True)
    path = cache / f"cdx-{n}.json.gz"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", compresslevel=6) as fh:
        fh.write('{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, '
                 '"serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", '
                 '"metadata": {"timestamp": "2026-12-01T09:00:00Z", "component": '
                 '{"type": "application", "name": "monorepo-build-host"}}, "components": [')
        for i in range(n):
            name = f"pkg-{i % 250000}-{i // 250000}"
            ver = f"{i % 13}.{i % 7}.{i % 101}"
            fh.write(("," if i else "") + json.dumps({
                "type": "library", "bom-ref": f"pkg:npm/{name}@{ver}", "name": name,
                "version": ver, "purl": f"pkg:npm/{name}@{ver}",
                "licenses": [{"license": {"id": "MIT"}}],
                "hashes": [{"alg": "SHA-256", "content": f"{i:064x}"}]}))
        fh.write("]}")
    os.replace(tmp, path)
    return path


def run(workdir: Path, *, components: int, review: str = "off") -> dict[str, Any]:
    """The benchmark; a summary dict."""
    from kitvet.estate import init_estate

    t_gen = time.monotonic()
    bom = bom_file(components)
    gen_s = time.monotonic() - t_gen
    root = workdir / "estate"
    est = init_estate(root, actor="bench")
    token = est.tokens.issue_token(name="build farm", institution="Alpha Agency",
                                   actor="bench")[0]
    est.close()
    env = dict(os.environ, KITVET_SERVER_MAX_BODY_BYTES=str(256 << 20),
               KITVET_SERVER_MAX_INVENTORY_BYTES=str(1 << 30))
    with open(workdir / "server.log", "wb") as log, ServeProcess(
            ["--estate", str(root), "--review", review], env=env, output=log) as srv:
        cpu0, rss0 = srv.stats()
        auth = {"Authorization": f"Bearer {token}"}
        body = bom.read_bytes()
        t0 = time.monotonic()
        r = httpx.post(f"{srv.base}/api/v1/snapshots", content=body, timeout=120,
                       headers={**auth, "Content-Encoding": "gzip"})
        accept_s = time.monotonic() - t0
        if r.status_code != 202:
            raise RuntimeError(f"upload answered {r.status_code}: {r.text}")
        job_id = r.json()["job_id"]
        job: dict[str, Any] = {}
        while time.monotonic() - t0 < 1800:
            job = httpx.get(f"{srv.base}/api/v1/jobs/{job_id}", headers=auth, timeout=30).json()
            if job["status"] in ("done", "refused", "failed"):
                break
            time.sleep(0.5)
        done_s = time.monotonic() - t0
        cpu1, hwm = srv.stats()
    return {"components": components, "gzip_mib": round(len(body) / 2**20, 1),
            "status": job.get("status"), "reason": job.get("reason"),
            "accept_s": round(accept_s, 2), "processed_s": round(done_s, 1),
            "server_cpu_s": round(cpu1 - cpu0, 1),
            "server_rss_before_mib": round(rss0 / 2**20, 1),
            "server_peak_rss_mib": round(hwm / 2**20, 1),
            "generate_s": round(gen_s, 1), "load_average": os.getloadavg(),
            "cores": os.cpu_count()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--components", type=int, default=1_000_000)
    ap.add_argument("--review", choices=["background", "off"], default="off")
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kitvet-big-") as tmp:
        out = run(args.workdir or Path(tmp), components=args.components, review=args.review)
    print(json.dumps(out, indent=2))
    return 0 if out["status"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
