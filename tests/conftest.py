"""Shared fixtures. Real-tree tests are marked `kernel` and fetch the Debian tree once."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_kernel"
CACHE = Path(os.environ.get("KPANALYZE_KERNEL_CACHE", ROOT / ".kernel-cache"))
DEB_VERSION = "6.1.176-1"
GROUNDTRUTH = ROOT.parent / "shared" / "groundtruth" / "linux-6.1.176"


def apt_download(spec: str, where: Path) -> None:
    """`apt-get download`, refreshing the package lists once if they are stale or absent."""
    if subprocess.run(["apt-get", "download", spec], cwd=where).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "download", spec], cwd=where, check=True)


def fetch_real_tree() -> Path:
    """Download and unpack linux-source-6.1=6.1.176-1 into the git-ignored cache (once)."""
    tree = CACHE / "linux-source-6.1"
    if (tree / "Makefile").is_file() and (tree / "kernel" / "kprobes.c").is_file():
        return tree
    CACHE.mkdir(parents=True, exist_ok=True)
    deb = CACHE / f"linux-source-6.1_{DEB_VERSION}_all.deb"
    if not deb.is_file():
        apt_download(f"linux-source-6.1={DEB_VERSION}", CACHE)
    unpacked = CACHE / "deb"
    if not (unpacked / "usr/src/linux-source-6.1.tar.xz").is_file():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    tmp = CACHE / "linux-source-6.1.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    with tarfile.open(unpacked / "usr/src/linux-source-6.1.tar.xz") as tf:
        tf.extractall(tmp, filter="tar")
    (tmp / "linux-source-6.1").rename(tree)  # atomic: a killed fetch leaves no half tree
    shutil.rmtree(tmp, ignore_errors=True)
    return tree


@pytest.fixture(scope="session")
def real_tree() -> Path:
    return fetch_real_tree()


@pytest.fixture(scope="session")
def sample_tree() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def groundtruth() -> Path:
    if not GROUNDTRUTH.is_dir():
        pytest.skip(f"ground truth not present at {GROUNDTRUTH}")
    return GROUNDTRUTH


# Debian's kernel images ship the build config as /boot/config-<release>.
IMAGE_PACKAGES = {
    "x86": ("linux-image-6.1.0-50-amd64-unsigned", "amd64", "x86_64"),
    "arm64": ("linux-image-6.1.0-50-arm64-unsigned", "arm64", "arm64"),
    "arm": ("linux-image-6.1.0-50-armmp", "armhf", "armhf"),
}


def fetch_debian_config(arch: str) -> Path:
    """Debian's 6.1.176 config for an arch: the ground-truth copy if present, else the
    /boot/config-* of the matching linux-image package (downloaded once, cached)."""
    pkg, deb_arch, gt_name = IMAGE_PACKAGES[arch]
    gt = GROUNDTRUTH / gt_name / "config"
    if gt.is_file():
        return gt
    cached = CACHE / "configs" / f"config-{deb_arch}"
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    work = CACHE / "images"
    work.mkdir(parents=True, exist_ok=True)
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    spec = f"{pkg}={DEB_VERSION}" if deb_arch == native else f"{pkg}:{deb_arch}={DEB_VERSION}"
    if deb_arch != native:
        foreign = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True, text=True).stdout.split()
        if deb_arch not in foreign:
            subprocess.run(["dpkg", "--add-architecture", deb_arch], check=True)
            subprocess.run(["apt-get", "update", "-qq"], check=True)
    debs = list(work.glob(f"{pkg}_{DEB_VERSION}_{deb_arch}.deb"))
    if not debs:
        apt_download(spec, work)
        debs = list(work.glob(f"{pkg}_{DEB_VERSION}_{deb_arch}.deb"))
    out = work / f"x-{deb_arch}"
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(out)], check=True)
    (config,) = list((out / "boot").glob("config-*"))
    tmp = cached.with_suffix(".partial")
    shutil.copyfile(config, tmp)
    tmp.rename(cached)
    shutil.rmtree(out, ignore_errors=True)
    return cached


@pytest.fixture(scope="session")
def debian_config():
    return fetch_debian_config


# ---------------------------------------------------------------- binary artifacts
# Debian's 6.1.176 kernel images (vmlinuz + config) and the real System.map from the
# matching -dbg packages, for the kernel tests of kpanalyze.binary. All cached under CACHE.

RELEASE = "6.1.0-50"
FLAVOURS = {"x86": "amd64", "arm64": "arm64", "arm": "armmp"}  # arch -> Debian kernel flavour
DBG = CACHE / "dbg"


def apt_download_for(pkg: str, deb_arch: str, where: Path) -> Path:
    """`apt-get download pkg=DEB_VERSION` for a Debian arch (adding a foreign arch to dpkg if
    needed, as fetch_debian_config does); returns the .deb, reusing one already there."""
    pattern = f"{pkg}_{DEB_VERSION}_{deb_arch}.deb"
    debs = list(where.glob(pattern))
    if debs:
        return debs[0]
    where.mkdir(parents=True, exist_ok=True)
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    if deb_arch != native:
        foreign = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True, text=True).stdout.split()
        if deb_arch not in foreign:
            subprocess.run(["dpkg", "--add-architecture", deb_arch], check=True)
            subprocess.run(["apt-get", "update", "-qq"], check=True)
    spec = f"{pkg}={DEB_VERSION}" if deb_arch == native else f"{pkg}:{deb_arch}={DEB_VERSION}"
    apt_download(spec, where)
    (deb,) = list(where.glob(pattern))
    return deb


def _extract_members(deb: Path, pattern: str, dest: Path) -> None:
    """Extract only the members matching `pattern` (a tar wildcard) of a .deb into dest,
    through a temporary folder so that a killed run leaves no half-written file."""
    tmp = dest.parent / f".{dest.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run(f"dpkg-deb --fsys-tarfile '{deb}' | tar -x -C '{tmp}' --wildcards '{pattern}'",
                   shell=True, check=True)
    dest.mkdir(parents=True, exist_ok=True)
    for f in tmp.rglob("*"):
        if f.is_file():
            target = dest / f.relative_to(tmp)
            target.parent.mkdir(parents=True, exist_ok=True)
            f.replace(target)
    shutil.rmtree(tmp, ignore_errors=True)


def fetch_debian_image(arch: str) -> Path:
    """/boot/vmlinuz-6.1.0-50-<flavour> of Debian's linux-image package (and its config next
    to it), extracted once into CACHE/images/boot. Only ./boot/* is unpacked (not the
    modules); the .deb is deleted afterwards when CI=true."""
    flavour = FLAVOURS[arch]
    image = CACHE / "images" / "boot" / f"vmlinuz-{RELEASE}-{flavour}"
    if image.is_file():
        return image
    pkg, deb_arch, _gt = IMAGE_PACKAGES[arch]
    deb = apt_download_for(pkg, deb_arch, CACHE / "images")
    _extract_members(deb, "./boot/*", CACHE / "images")
    if os.environ.get("CI") == "true":
        deb.unlink(missing_ok=True)
    return image


def fetch_debian_system_map(arch: str) -> Path:
    """The real System.map of Debian's 6.1.176 kernel for an arch, from the -dbg package
    (~600-800 MB): only the System.map member is extracted, into
    CACHE/dbg/usr/lib/debug/boot/; the .deb is deleted afterwards when CI=true."""
    flavour = FLAVOURS[arch]
    smap = DBG / "usr/lib/debug/boot" / f"System.map-{RELEASE}-{flavour}"
    if smap.is_file():
        return smap
    _pkg, deb_arch, _gt = IMAGE_PACKAGES[arch]
    deb = apt_download_for(f"linux-image-{RELEASE}-{flavour}-dbg", deb_arch, DBG)
    _extract_members(deb, "./usr/lib/debug/boot/System.map-*", DBG)
    if os.environ.get("CI") == "true":
        deb.unlink(missing_ok=True)
    return smap


@pytest.fixture(scope="session")
def debian_image():
    """debian_image(arch) -> Path of Debian's vmlinuz for "x86", "arm64" or "arm"."""
    return fetch_debian_image


@pytest.fixture(scope="session")
def debian_system_map():
    """debian_system_map(arch) -> Path of the real System.map (from the -dbg package)."""
    return fetch_debian_system_map


@pytest.fixture(scope="session")
def debian_symbols(groundtruth):
    """debian_symbols(arch) -> (option, Path): the x86_64 ground-truth kallsyms (a booted
    kernel's /proc/kallsyms, KASLR off) for x86, the -dbg System.map for the others."""
    def get(arch: str) -> tuple[str, Path]:
        if arch == "x86":
            return "kallsyms", groundtruth / "x86_64" / "kallsyms.txt"
        return "system_map", fetch_debian_system_map(arch)
    return get
