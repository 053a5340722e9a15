"""Apache Kafka from Maven Central: the broker and tools runtime classpath, cached per version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import ToolMissing, UsageError
from harness.home import cache_dir
from harness.provision.tools import file_lock, java_bin, progress, require_tool

DEFAULT_KAFKA_VERSION = "4.3.1"
LOG4J_VERSION = "2.25.4"  # the log4j2 line Kafka 4.x ships; routes Kafka's slf4j logging to files

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kch.provision</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{v}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{v}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


@dataclass(frozen=True)
class KafkaDist:
    """A usable Kafka: its version, the jars of its classpath, the java to run it with."""

    version: str
    libs: Path
    java: str
    log4j2_config: Path

    @property
    def classpath(self) -> str:
        return os.pathsep.join(str(p) for p in sorted(self.libs.glob("*.jar")))


def _check_version(version: str) -> None:
    if not re.fullmatch(r"4\.\d+\.\d+", version):
        raise UsageError(f"--kafka-version: {version!r} is not a Kafka 4.x version such as {DEFAULT_KAFKA_VERSION}")


def _log4j2_config() -> Path:
    target = cache_dir() / "log4j2.xml"
    text = resources.files("harness.resources").joinpath("log4j2.xml").read_text()
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return target


def kafka_dist(version: str = DEFAULT_KAFKA_VERSION) -> KafkaDist:
    """Return Kafka ``version``, resolving it with Maven on first use.

    ``KAFKA_HOME`` (an unpacked official distribution) is used instead when set.
    Raises UsageError for a version Maven Central does not serve, ToolMissing for a missing
    java or mvn.
    """
    java = java_bin()
    home = os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home) / "libs"
        if not any(libs.glob("kafka_2.13-*.jar")):
            raise ToolMissing(f"KAFKA_HOME={home} has no libs/kafka_2.13-*.jar: point it at an unpacked Kafka distribution or unset it")
        found = re.search(r"kafka_2\.13-(.+)\.jar", next(libs.glob("kafka_2.13-*.jar")).name)
        return KafkaDist(found.group(1) if found else version, libs, java, _log4j2_config())
    _check_version(version)
    root = cache_dir() / "kafka" / version
    libs = root / "libs"
    with file_lock(cache_dir() / "kafka" / f".{version}.lock"):
        if not (root / ".complete").exists():
            _resolve(version, root)
    return KafkaDist(version, libs, java, _log4j2_config())


def _resolve(version: str, root: Path) -> None:
    mvn = require_tool("mvn")
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=f".{version}-") as tmp:
        work = Path(tmp)
        (work / "pom.xml").write_text(_POM.format(v=version, log4j=LOG4J_VERSION))
        cmd = [mvn, "-B", "-q", "-f", str(work / "pom.xml"), "dependency:copy-dependencies",
               f"-DoutputDirectory={work / 'libs'}", "-DincludeScope=runtime"]
        with progress(f"resolving Apache Kafka {version} from Maven Central (once; cached)"):
            proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            out = proc.stdout + proc.stderr
            if "Could not find artifact" in out or "Could not resolve dependencies" in out:
                raise UsageError(f"--kafka-version: Kafka {version} could not be resolved from Maven Central (is it served? 4.0.0 to 4.3.1 are)")
            last = [line for line in out.splitlines() if "ERROR" in line][:1]
            raise ToolMissing(f"mvn failed resolving Kafka {version}: {last[0] if last else out[-300:]}; check Maven's network settings")
        if root.exists():
            shutil.rmtree(root)
        (work / "libs").rename(root.with_name(root.name + ".tmp"))
        root.mkdir()
        root.with_name(root.name + ".tmp").rename(root / "libs")
        (root / ".complete").write_text(version)
