"""Build the double-click application: `python packaging/build.py` (or `.ci/dev package`).

Runs PyInstaller with packaging/restoration_editor.spec (work files in build/, the
one-folder bundle in dist/restoration-editor/), strips the symbol tables of torch's
libraries, adds the Linux desktop files, measures the bundle and writes the distributable
tarball dist/restoration-editor-VERSION-linux-ARCH.tar.gz. Prints one summary line per step
and writes the numbers to dist/build-report.json.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
ROOT = PACKAGING.parent
sys.path.insert(0, str(PACKAGING))

import bundle_rules as rules  # noqa: E402  (a sibling script, not an installed package)

SPEC = PACKAGING / "restoration_editor.spec"
LINUX_FILES = ("install.sh", "restoration-editor.desktop", "restoration-editor-mime.xml")
# Libraries shipped with full symbol tables, which only debuggers read: torch's own and the
# interpreter's (a pyenv build). Never the auditwheel-patched ones (see the spec).
STRIP_SYMBOLS = ("torch/lib/*.so", "torch/_C*.so", "libpython3*.so*", "python3*/lib-dynload/*.so")
MB = 1_000_000


@dataclass
class BuildReport:
    version: str
    bundle: str
    build_seconds: float
    unpacked_bytes: int
    file_count: int
    tarball: str | None = None
    tarball_bytes: int | None = None
    tarball_seconds: float | None = None
    largest: list[tuple[str, int]] | None = None


def run_pyinstaller(dist: Path, work: Path) -> Path:
    command = [
        sys.executable, "-m", "PyInstaller", str(SPEC),
        "--distpath", str(dist), "--workpath", str(work), "--noconfirm", "--log-level", "WARN",
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True)
    return dist / rules.EXECUTABLE


def strip_symbols(bundle: Path) -> int:
    """Strip symbol tables from torch's libraries; returns the bytes saved (0 without strip)."""
    tool = shutil.which("strip")
    if tool is None or sys.platform != "linux":
        return 0
    internal = bundle / "_internal"
    saved = 0
    for path in sorted(internal.rglob("*.so*")):
        relative = path.relative_to(internal).as_posix()
        if path.is_symlink() or not any(fnmatch.fnmatch(relative, p) for p in STRIP_SYMBOLS):
            continue
        before = path.stat().st_size
        subprocess.run([tool, "--strip-unneeded", str(path)], check=True)
        saved += before - path.stat().st_size
    return saved


def add_desktop_files(bundle: Path) -> None:
    for name in LINUX_FILES:
        target = bundle / name
        shutil.copy2(PACKAGING / "linux" / name, target)
    (bundle / "install.sh").chmod(0o755)


def measure(bundle: Path) -> tuple[int, int, list[tuple[str, int]]]:
    """(bytes, files, the ten largest top-level parts of _internal) — links not followed."""
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    total = sum(p.stat().st_size for p in files)
    parts: dict[str, int] = {}
    for path in files:
        relative = path.relative_to(bundle).parts
        key = "/".join(relative[:2]) if relative[0] == "_internal" else relative[0]
        parts[key] = parts.get(key, 0) + path.stat().st_size
    largest = sorted(parts.items(), key=lambda item: -item[1])[:10]
    return total, len(files), largest


def write_tarball(bundle: Path, version: str) -> Path:
    """dist/restoration-editor-VERSION-linux-ARCH.tar.gz, unpacking to one folder."""
    folder = f"{rules.EXECUTABLE}-{version}"
    target = bundle.parent / f"{folder}-linux-{platform.machine()}.tar.gz"
    # gzip's default level: 271 MB in ~30 s here (budget 300 MB); level 9 ran for over ten
    # minutes on this 2-core machine. gzip unpacks everywhere without extra tools.
    with tarfile.open(target, "w:gz", compresslevel=6) as archive:
        archive.add(bundle, arcname=folder)
    return target


def build(dist: Path, work: Path, *, tarball: bool = True) -> BuildReport:
    version = metadata.version(rules.DISTRIBUTION)
    started = time.perf_counter()
    bundle = run_pyinstaller(dist, work)
    saved = strip_symbols(bundle)
    add_desktop_files(bundle)
    seconds = time.perf_counter() - started
    total, count, largest = measure(bundle)
    report = BuildReport(version, str(bundle), round(seconds, 1), total, count, largest=largest)
    print(f"built {bundle} in {seconds:.0f} s (symbols stripped: {saved / MB:.0f} MB)")
    print(f"unpacked: {total / MB:.0f} MB in {count} files")
    for part, size in largest:
        print(f"  {size / MB:7.1f} MB  {part}")
    if tarball:
        started = time.perf_counter()
        archive = write_tarball(bundle, version)
        report.tarball, report.tarball_bytes = str(archive), archive.stat().st_size
        report.tarball_seconds = round(time.perf_counter() - started, 1)
        print(f"tarball: {archive} {report.tarball_bytes / MB:.0f} MB")
    (dist / "build-report.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="work folder")
    parser.add_argument("--no-tarball", action="store_true", help="skip the distributable")
    args = parser.parse_args(argv)
    try:
        build(args.dist.resolve(), args.work.resolve(), tarball=not args.no_tarball)
    except subprocess.CalledProcessError as exc:
        print(f"build failed: {' '.join(map(str, exc.cmd[:4]))} … exited {exc.returncode}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
