"""What every benchmark page says about where its numbers come from: the commit, a hash of the qa/
source, the machine; and writing a page beside its JSON."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commit() -> str:
    """The short commit of the checkout, with the files under qa/ that differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "n/a"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "qa"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "n/a"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return head.stdout.strip() + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def code_version() -> str:
    """A hash of the qa package's source as it is now: runs of different code differ."""
    digest = hashlib.sha256()
    for f in sorted((ROOT / "qa").rglob("*.py")):
        digest.update(f.read_bytes())
    return digest.hexdigest()[:10]


def machine(packages: tuple[str, ...] = ("onnxruntime", "chromadb")) -> dict:
    info = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gb": None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        info["ram_gb"] = round(int(mem.split()[1]) / 2**20, 1)
    except (OSError, StopIteration):
        pass
    info["versions"] = {}
    for p in packages:
        try:
            info["versions"][p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            info["versions"][p] = "not installed"
    return info


def machine_line(info: dict) -> str:
    """One line for a page: cores, CPU, load now, OS, Python."""
    load = f", load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    return f"{info['cores']} cores ({info['cpu']}){load}, {info['os']}, Python {info['python']}"


def write(page: str, out: Path, data: dict, json_out: Path | None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(data, indent=2, default=str))
