"""The images of the docker provider: the official ones when they are there or can be pulled,
else equivalent images kch builds without any registry (``kch images build``).

Built here:

- ``kch/jre:17-bookworm``: Debian bookworm with OpenJDK 17 (JRE), iptables and iproute2,
  made by ``debootstrap`` from Debian's packages and ``docker import`` (no base image pulled).
- ``kch/kafka:VERSION``: that base plus the provisioned Kafka jars in ``/opt/kafka/libs`` (the
  official image's layout) and toxiproxy in ``/kch/bin`` (for the per-node link proxies).
- ``kch/toxiproxy:2.12.0``: the provisioned, statically linked toxiproxy server alone
  (``FROM scratch``), started as the official image is (``/toxiproxy -host=0.0.0.0``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.cluster.engine import engine
from harness.errors import ClusterError, ToolMissing, UsageError
from harness.home import state_dir
from harness.provision import TOXIPROXY_VERSION, kafka_dist, toxiproxy_bin

BASE = "kch/jre:17-bookworm"
BASE_PACKAGES = "openjdk-17-jre-headless,iptables,iproute2"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CHOICES = ("auto", "official", "kch")


def official_kafka(version: str) -> str:
    return f"apache/kafka:{version}"


def kch_kafka(version: str) -> str:
    return f"kch/kafka:{version}"


OFFICIAL_PROXY = f"ghcr.io/shopify/toxiproxy:{TOXIPROXY_VERSION.lstrip('v')}"
KCH_PROXY = f"kch/toxiproxy:{TOXIPROXY_VERSION.lstrip('v')}"


@dataclass(frozen=True)
class Images:
    kafka: str
    proxy: str
    official: bool          # the official Kafka image: toxiproxy is mounted, iptables runs in a helper

    @property
    def tools(self) -> str:
        """An image with iptables, for cuts inside a node's network namespace."""
        return BASE


def _present(name: str) -> bool:
    import docker

    try:
        engine().images.get(name)
        return True
    except docker.errors.ImageNotFound:
        return False


_PULL_FAILED: set[str] = set()


def _pull(name: str) -> bool:
    """Try once per process to pull ``name``; False if no registry gives it."""
    import docker

    if name in _PULL_FAILED:
        return False
    try:
        engine().images.pull(name)
        return True
    except docker.errors.DockerException:
        _PULL_FAILED.add(name)
        return False


def resolve(kafka_version: str, choice: str = "auto") -> Images:
    """The images a docker cluster of ``kafka_version`` runs, per ``choice``:

    ``official``: apache/kafka and toxiproxy's image (pulled if absent); ``kch``: the images
    ``kch images build`` made; ``auto``: official ones already present, else kch's if built,
    else official ones if they can be pulled.
    """
    if choice not in CHOICES:
        raise UsageError(f"--images {choice}: expected one of {', '.join(CHOICES)}")
    official = Images(official_kafka(kafka_version), OFFICIAL_PROXY, True)
    built = Images(kch_kafka(kafka_version), KCH_PROXY, False)
    fix = f"run `kch images build --kafka-version {kafka_version}` (no registry needed)"
    if choice == "kch":
        missing = [n for n in (built.kafka, built.proxy) if not _present(n)]
        if missing:
            raise ToolMissing(f"image {missing[0]} is not built: {fix}")
        return built
    if choice == "auto":
        if _present(official.kafka) and _present(official.proxy):
            return official
        if _present(built.kafka) and _present(built.proxy):
            return built
    for name in (official.kafka, official.proxy):
        if not _present(name) and not _pull(name):
            raise ToolMissing(f"image {name} is not here and cannot be pulled: {fix}")
    return official


# --- building -------------------------------------------------------------------------------
def debian_mirror() -> str:
    """The Debian mirror apt uses on this machine (deb822 or one-line sources), else Debian's
    own (an Ubuntu host's archive has no bookworm)."""
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri in re.findall(r"(?:^URIs:\s*|^deb\s+(?:\[[^]]*\]\s+)?)(\S+)", text, re.M):
            if "debian" in uri and not uri.rstrip("/").endswith("-security"):
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def build_base(*, mirror: str | None = None, rebuild: bool = False, quiet: bool = False) -> float | None:
    """Build the JRE base image with debootstrap; return seconds taken (None: already built)."""
    if _present(BASE) and not rebuild:
        return None
    if shutil.which("debootstrap") is None:
        raise ToolMissing("debootstrap is missing: apt-get install debootstrap (Debian's package)")
    if os.geteuid() != 0:
        raise ToolMissing("building the base image runs debootstrap, which needs root: run as root (sudo)")
    mirror = mirror or debian_mirror()
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="kch-image-", dir=state_dir()))
    try:
        rootfs, tar = work / "rootfs", work / "rootfs.tar"
        _say(quiet, f"kch images: debootstrap bookworm ({BASE_PACKAGES}) from {mirror}")
        _run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(rootfs), mirror],
             "debootstrap", timeout=1200)
        for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):   # not needed in the image
            deb.unlink()
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tar), "."], "tar", timeout=600)
        _say(quiet, f"kch images: docker import -> {BASE}")
        repo, tag = BASE.split(":")
        engine().api.import_image_from_file(str(tar), repository=repo, tag=tag,
                                            changes=["ENV LANG=C.UTF-8", 'CMD ["bash"]'])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return time.monotonic() - began


def _run(cmd: list[str], what: str, *, timeout: float) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ClusterError(f"{what} failed ({proc.returncode}): {tail[0]}")


KAFKA_DOCKERFILE = f"""FROM {BASE}
COPY libs/ /opt/kafka/libs/
COPY toxiproxy-server /kch/bin/toxiproxy-server
LABEL kch.image=kafka
"""

PROXY_DOCKERFILE = """FROM scratch
COPY toxiproxy-server /toxiproxy
EXPOSE 8474
ENTRYPOINT ["/toxiproxy"]
CMD ["-host=0.0.0.0"]
"""


def _build(tag: str, dockerfile: str, files: dict[str, Path]) -> None:
    import docker

    with tempfile.TemporaryDirectory(prefix="kch-build-", dir=state_dir()) as ctx:
        root = Path(ctx)
        (root / "Dockerfile").write_text(dockerfile)
        for name, src in files.items():
            dst = root / name
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
        try:
            engine().images.build(path=str(root), tag=tag, rm=True, pull=False)
        except docker.errors.BuildError as exc:
            raise ClusterError(f"building {tag} failed: {exc.msg}") from exc


def build_all(kafka_version: str, *, mirror: str | None = None, rebuild: bool = False,
              quiet: bool = False) -> dict[str, float | None]:
    """Build every kch image for ``kafka_version``; seconds per image (None: already there)."""
    dist = kafka_dist(kafka_version)
    tp = toxiproxy_bin()
    times: dict[str, float | None] = {BASE: build_base(mirror=mirror, rebuild=rebuild, quiet=quiet)}
    for tag, dockerfile, files in ((kch_kafka(dist.version), KAFKA_DOCKERFILE,
                                    {"libs": dist.libs, "toxiproxy-server": Path(tp)}),
                                   (KCH_PROXY, PROXY_DOCKERFILE, {"toxiproxy-server": Path(tp)})):
        if _present(tag) and not rebuild and times[BASE] is None:
            times[tag] = None
            continue
        _say(quiet, f"kch images: building {tag}")
        began = time.monotonic()
        _build(tag, dockerfile, files)
        times[tag] = time.monotonic() - began
    return times
