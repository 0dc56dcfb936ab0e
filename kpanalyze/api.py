"""Entry points callable from Python; the CLI is a thin layer over these."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .errors import InputError
from .verdict import KINDS, VIAS, BlacklistEntry, CheckResult, ProbePoint


def default_kernel() -> Path:
    """The embedded sample tree (shipped inside the package)."""
    from .resources import sample_kernel_path

    return sample_kernel_path()


@dataclass
class Kernel:
    """An opened tree with its (built, up to date) fact index. Models are kept per
    (arch, config file) so repeated checks in one process reuse the build map and hooks."""

    tree: object
    index: object
    _models: dict = field(default_factory=dict, repr=False)

    def model(self, arch: str, config=None):
        from .model import KernelModel

        key = (arch, _config_key(config))
        if key not in self._models:
            self._models[key] = KernelModel(self.tree, self.index, arch, config)
        return self._models[key]


def _config_key(config):
    if config is None:
        return None
    path = Path(config.path)
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        return ("<unstatable>", id(config))


def open_kernel(kernel: Path | None = None, *, progress: bool = False, workers: int | None = None,
                refresh: bool = True) -> Kernel:
    """Open a tree and bring its fact index up to date (incremental)."""
    from .index import FactIndex
    from .tree import KernelTree

    tree = KernelTree(Path(kernel) if kernel else default_kernel())
    index = FactIndex.open(tree)
    if refresh:
        index.build(progress=progress, workers=workers)
    return Kernel(tree, index)


def build_index(kernel: Path | None = None, workers: int | None = None, progress: bool = True):
    """Build or refresh the fact index of a tree; returns the build statistics."""
    from .index import FactIndex
    from .tree import KernelTree

    tree = KernelTree(Path(kernel) if kernel else default_kernel())
    return FactIndex.open(tree).build(progress=progress, workers=workers)


def load_config(config: Path | str | None):
    if config is None:
        return None
    from .config import KernelConfig

    return KernelConfig.load(Path(config))


def all_arches(kernel: Path | None = None, *, opened: Kernel | None = None) -> list[str]:
    """Every arch directory of the tree (arch/*/ with a Kconfig): read from the tree, no index."""
    if opened is not None:
        return list(opened.tree.arches())
    from .tree import KernelTree

    return list(KernelTree(Path(kernel) if kernel else default_kernel()).arches())


def supported_arches(kernel: Path | None = None, *, opened: Kernel | None = None) -> list[str]:
    """Arch directories of the tree that can enable kprobes (select HAVE_KPROBES)."""
    k = opened or open_kernel(kernel)
    prefixes = {s.path.split("/")[1] for s in k.index.kconfig_selects("arch/") if s.symbol == "HAVE_KPROBES"}
    return [a for a in k.tree.arches() if a in prefixes]


def resolve_arches(k: Kernel, arches: Sequence[str] | None, config) -> list[str]:
    from .arches import canonical_arch

    tree_arches = list(k.tree.arches())
    if arches:
        out = [canonical_arch(a, tree_arches) for a in arches]
        missing = [a for a in out if a not in tree_arches]
        if missing:
            raise InputError(f"{k.tree.root}: no arch/{missing[0]}/ directory in this tree")
        return list(dict.fromkeys(out))
    if config is not None:
        hint = config.arch_hint()
        if hint:
            return [canonical_arch(hint, tree_arches)]
    return supported_arches(opened=k)


def parse_points(points: Iterable[str | ProbePoint]) -> list[ProbePoint]:
    out = []
    for p in points:
        out.append(p if isinstance(p, ProbePoint) else ProbePoint.parse(p))
    if not out:
        raise InputError("no probe point given")
    return out


def check(points: Iterable[str | ProbePoint], *, arches: Sequence[str] | None = None,
          kernel: Path | None = None, config: Path | None = None,
          via: str = "tracefs", kinds: Sequence[str] = KINDS,
          progress: bool = False, opened: Kernel | None = None,
          vmlinux=None, image=None, system_map=None, kallsyms=None) -> CheckResult:
    """Verdicts for every point x arch x kind. Raises InputError on bad input.
    Without arches: the config's arch if a config is given, else every arch that
    supports kprobes. With binary artifacts (one kernel, so one arch): existence comes from
    the symbol table and offsets are judged on the real instruction bytes."""
    from .analysis.verdicts import judge_many

    if via not in VIAS:
        raise InputError(f"unknown front end {via!r}: use one of {', '.join(VIAS)}")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InputError(f"unknown probe kind {bad[0]!r}: use kprobe or kretprobe")
    pts = parse_points(points)
    cfg = load_config(config)
    k = opened or open_kernel(kernel, progress=progress)
    result = CheckResult(kernel=str(k.tree.root), kernel_version=k.tree.version,
                         config=str(config) if config else "")
    binary_given = any((vmlinux, image, system_map, kallsyms))
    if image and not (system_map or kallsyms):
        raise InputError("--image needs a symbol table: give --system-map or --kallsyms")
    arts = None
    if binary_given:
        from .binary import open_artifacts

        arts = open_artifacts(vmlinux=vmlinux, image=image, system_map=system_map, kallsyms=kallsyms)
        if not arches and arts.image is not None:
            arches = [arts.image.arch]  # the image says which arch it is
    targets = resolve_arches(k, arches, cfg)
    if binary_given and len(targets) > 1:
        raise InputError("binary artifacts describe one kernel: give exactly one --arch "
                         f"(the tree has {', '.join(targets)})")
    for arch in targets:
        model = k.model(arch, cfg)
        ctx = open_binary(model, artifacts=arts) if arts is not None else None
        result.verdicts.extend(judge_many(model, pts, tuple(kinds), via, binary=ctx))
    return result


def blacklist(arch: str, *, kernel: Path | None = None, config: Path | None = None,
              progress: bool = False, opened: Kernel | None = None) -> list[BlacklistEntry]:
    """Every symbol the kernel's kprobe blacklist would hold on this arch, with its reason."""
    from .analysis.blacklist import predict_blacklist

    cfg = load_config(config)
    k = opened or open_kernel(kernel, progress=progress)
    (arch,) = resolve_arches(k, [arch], cfg)
    return predict_blacklist(k.model(arch, cfg))


# -- instruction level (decoders parsed from the tree; binary artifacts) ---------------

def open_binary(model, *, vmlinux=None, image=None, system_map=None, kallsyms=None, artifacts=None):
    """A BinaryContext for this model's arch, or None when no artifact is given (`artifacts`:
    already opened ones). Raises InputError when the image is for another arch."""
    if artifacts is None and not any((vmlinux, image, system_map, kallsyms)):
        return None
    from .analysis.instruction import BinaryContext
    from .binary import open_artifacts
    from .decoders import decoder_for

    arts = artifacts or open_artifacts(vmlinux=vmlinux, image=image, system_map=system_map, kallsyms=kallsyms)
    img = arts.image
    if img is not None and img.arch != model.arch:
        raise InputError(f"{getattr(img, 'path', vmlinux or image)}: the kernel image is for {img.arch}, "
                         f"but the arch checked is {model.arch} (use --arch {img.arch})")
    on_ftrace = model.hooks.kprobes_on_ftrace and model.config_flag("KPROBES_ON_FTRACE", True)
    names = None
    if arts.symbols.kind != "kallsyms" and not model.config_flag("KALLSYMS_ALL", True):
        names = arts.symbols.kallsyms_without_all()
    return BinaryContext(arts, decoder_for(model.tree, model.arch, model.config) if img is not None else None,
                         model.arch, on_ftrace, names=names)


def decoder(arch: str, *, kernel: Path | None = None, config: Path | None = None,
            opened: Kernel | None = None):
    """The arch's kprobe instruction decoder, built from this tree's decoder sources."""
    from .decoders import decoder_for

    cfg = load_config(config)
    k = opened or open_kernel(kernel, refresh=False)
    (arch,) = resolve_arches(k, [arch], cfg)
    return decoder_for(k.tree, arch, cfg)


def offsets(symbol: str, arch: str, *, kernel: Path | None = None, config: Path | None = None,
            vmlinux=None, image=None, system_map=None, kallsyms=None, via: str = "tracefs",
            progress: bool = False, opened: Kernel | None = None) -> CheckResult:
    """kprobe verdicts at every instruction offset of SYMBOL (needs an image and symbols)."""
    from .analysis.offsets import offsets_verdicts

    if not (vmlinux or image):
        raise InputError("offsets needs the kernel image: give --vmlinux or --image")
    if image and not (system_map or kallsyms):
        raise InputError("--image needs a symbol table: give --system-map or --kallsyms")
    point = ProbePoint.parse(symbol)
    cfg = load_config(config)
    k = opened or open_kernel(kernel, progress=progress)
    (arch,) = resolve_arches(k, [arch], cfg)
    model = k.model(arch, cfg)
    ctx = open_binary(model, vmlinux=vmlinux, image=image, system_map=system_map, kallsyms=kallsyms)
    result = CheckResult(kernel=str(k.tree.root), kernel_version=k.tree.version,
                         config=str(config) if config else "")
    result.verdicts.extend(offsets_verdicts(model, ctx, point.symbol, via))
    return result
