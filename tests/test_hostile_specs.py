"""Spec and suite files are untrusted input: whatever a file holds, loading answers within a
bounded time and memory with exit 2 and one line naming the file, or loads exactly what the
file says. The corpus is ``tests/hostile/`` (see its README); larger and stranger attacks are
made here at test time."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from harness.spec import SpecError, find_specs, load_spec
from harness.spec.yamlfile import read_yaml, show_path
from harness.spec.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "hostile"
FILES = sorted(CORPUS.glob("*.yaml"))
TIMEOUT = 20.0          # seconds a process may take for one file
IN_PROCESS = 5.0        # seconds load_spec may take for one file (the slowest takes about 1)
MEMORY = 2 << 30        # bytes of address space a process may use

# Valid YAML whose meaning the spec model does not bound yet: remove a name once the model
# (harness/spec/model.py or checks.py) refuses it; until then its test is an expected failure.
MODEL_ACCEPTS: dict[str, str] = {}    # semantic hostiles the model still accepts (none now)

# A process that has imported kch once validates each file in a child forked from it: each
# file runs `kch specs validate FILE` in its own process (own exit code, own stderr, killed at
# the timeout, limited in memory) without paying the import of kch per file.
DRIVER = r"""
import json, os, resource, sys, tempfile, time, traceback
from harness.cli import main
import harness.cli.tools, harness.provision, harness.spec, harness.spec.suite   # what the command imports
limit, memory = float(sys.argv[1]), int(sys.argv[2])
for path in sys.argv[3:]:
    err = tempfile.TemporaryFile()
    began = time.monotonic()
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            os.dup2(err.fileno(), 2)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            try:
                code = main(["specs", "validate", path])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush(); sys.stderr.flush()
        finally:
            os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() - began > limit:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            code = "timeout"
            break
        time.sleep(0.002)
    err.seek(0)
    print(json.dumps({"path": path, "code": code, "stderr": err.read().decode("utf-8", "replace"),
                      "seconds": round(time.monotonic() - began, 3)}), flush=True)
"""

# `kch specs validate ARGS` in a fresh interpreter with the memory limit (for the attacks
# made at test time: a real process start, as a user runs it).
KCH = (f"import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY})); "
       "sys.argv = ['kch'] + sys.argv[1:]; runpy.run_module('harness', run_name='__main__')")


def kch_validate(*paths: Path) -> dict:
    began = time.monotonic()
    try:
        res = subprocess.run([sys.executable, "-c", KCH, "specs", "validate", *map(str, paths)], cwd=ROOT,
                             capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"code": "timeout", "stderr": "", "seconds": TIMEOUT}
    return {"code": res.returncode, "stderr": res.stderr.decode("utf-8", "replace"),
            "seconds": time.monotonic() - began}


def assert_refused(run: dict, path: Path) -> None:
    """Exit 2, one line on stderr naming the file (``file:line: field: what``), no traceback."""
    assert run["code"] != "timeout", f"{path.name}: no answer within {TIMEOUT} s"
    stderr = run["stderr"]
    assert "Traceback" not in stderr, stderr
    assert run["code"] == 2, f"{path.name}: exit {run['code']}: {stderr}"
    assert stderr.endswith("\n") and stderr.count("\n") == 1, f"not one line: {stderr!r}"
    shown = show_path(path)
    assert stderr.startswith(f"kch: error: {shown}"), stderr
    assert re.match(rf"kch: error: {re.escape(shown)}(:\d+: \S.*?: .+|: .+)$", stderr.rstrip("\n")), stderr


def ok(path: Path) -> bool:
    return path.stem.endswith("-ok")


def expected_failure(name: str) -> list:
    return [pytest.mark.xfail(reason=f"the model accepts it: {MODEL_ACCEPTS[name]}", strict=True)] \
        if name in MODEL_ACCEPTS else []


CASES = [pytest.param(p, id=p.name, marks=expected_failure(p.name)) for p in FILES]


def test_the_corpus_is_many_small_files():
    assert len(FILES) >= 25 and sum(ok(p) for p in FILES) >= 2
    assert all(p.stat().st_size <= 16 * 1024 for p in FILES), "make large attacks at test time"
    assert set(MODEL_ACCEPTS) <= {p.name for p in FILES} | {"many-covers.yaml"}


def fork_validate(paths: list[Path]) -> dict[str, dict]:
    """`kch specs validate PATH` for each path, each in its own process (see DRIVER)."""
    res = subprocess.run([sys.executable, "-c", DRIVER, str(TIMEOUT), str(MEMORY), *map(str, paths)],
                         cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT * 4 + 120, check=False)
    runs = {run["path"]: run for run in map(json.loads, res.stdout.splitlines())}
    assert len(runs) == len(paths), res.stderr[-2000:]
    return runs


@pytest.fixture(scope="module")
def runs(made) -> dict[str, dict]:
    return fork_validate([*FILES, *made.values()])


@pytest.mark.parametrize("path", CASES)
def test_kch_specs_validate_answers_each_file(runs, path):
    run = runs[str(path)]
    if ok(path):
        assert run["code"] == 0 and run["stderr"] == "", run
    else:
        assert_refused(run, path)


@pytest.mark.parametrize("path", CASES)
def test_load_spec_refuses_each_file_in_bounded_time(path):
    began = time.monotonic()
    if ok(path):
        data, _ = read_yaml(path)
        assert data == yaml.safe_load(path.read_bytes().decode("utf-8-sig"))   # exactly what it says
        assert load_spec(path).spec.title == data["title"]
        return
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert "\n" not in message and "\r" not in message and message.startswith(f"{path}:"), message
    assert time.monotonic() - began < IN_PROCESS


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_load_suite_refuses_each_file(tmp_path, path):
    suite = tmp_path / "suites" / path.name
    suite.parent.mkdir()
    shutil.copyfile(path, suite)
    with pytest.raises(SpecError) as err:          # not one of them is a suite
        load_suite(suite)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{suite}:"), message


# --- attacks made at test time ---------------------------------------------------------------------
SPEC = "title: A valid spec\ncluster: {brokers: 3}\nexpect: {duplicate: forbidden}\n"


def _alias_bomb() -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i}\n" + "".join(f"  - *l{i - 1}\n" for _ in range(9)).rstrip("\n") for i in range(1, 10)]
    return "\n".join(lines) + "\n" + SPEC.replace("title: A valid spec", "title: *l9")


GENERATED = {                       # name -> bytes (written at test time, too large to commit)
    "big-300k.yaml": lambda: SPEC.encode() + b"# padding\n" * (300 * 1024 // 10),
    "big-10m.yaml": lambda: SPEC.encode() + b"# padding\n" * (10 * 1024 * 1024 // 10),
    "deep-50000.yaml": lambda: b"title: " + b"[" * 50_000 + b"]" * 50_000 + b"\nexpect: {duplicate: forbidden}\n",
    "deep-50000-block.yaml": lambda: b"- " * 50_000 + b"x\n",
    "alias-bomb-9.yaml": lambda: _alias_bomb().encode(),
    "many-values.yaml": lambda: SPEC.encode() + b"covers: [" + b"a, " * 21_000 + b"a]\n",
    "long-value.yaml": lambda: SPEC.replace("A valid spec", "x" * 100_000).encode(),
    "many-covers.yaml": lambda: SPEC.encode() + b"covers: [" + b", ".join(b"c%d" % i for i in range(5_000)) + b"]\n",
}


def _special(tmp: Path) -> dict[str, Path]:
    """Files that are not regular files, or not readable, or badly named."""
    out: dict[str, Path] = {}
    if os.path.exists("/dev/zero"):
        out["dev-zero"] = tmp / "zero.yaml"
        out["dev-zero"].symlink_to("/dev/zero")
    if os.path.exists("/proc/self/mem"):
        out["proc-mem"] = tmp / "mem.yaml"            # a regular file that cannot be read
        out["proc-mem"].symlink_to("/proc/self/mem")
    out["fifo"] = tmp / "fifo.yaml"
    os.mkfifo(out["fifo"])
    out["directory"] = tmp / "dir.yaml"
    out["directory"].mkdir()
    out["symlink-loop"] = tmp / "loop.yaml"
    out["symlink-loop"].symlink_to("loop.yaml")
    out["dangling-link"] = tmp / "dangling.yaml"
    out["dangling-link"].symlink_to(tmp / "nowhere.yaml")
    out["newline-in-name"] = tmp / "bad\nname\x1b[2K.yaml"
    out["newline-in-name"].write_text("title: [\n")
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("hostile")
    paths = {}
    for name, content in GENERATED.items():
        paths[name] = tmp / name
        paths[name].write_bytes(content())
    special = tmp_path_factory.mktemp("special")
    paths.update(_special(special))
    return paths


MADE = [*GENERATED, "dev-zero", "proc-mem", "fifo", "directory", "symlink-loop", "dangling-link", "newline-in-name"]


@pytest.mark.parametrize("name", [pytest.param(n, marks=expected_failure(n)) for n in MADE])
def test_kch_specs_validate_answers_attacks_made_at_test_time(made, runs, name):
    if name not in made:
        pytest.skip(f"{name}: not on this system")
    assert_refused(runs[str(made[name])], made[name])


def test_kch_itself_answers_the_largest_attacks(made):
    """The same, each in a fresh `kch` process (a real start, as a user runs it)."""
    names = [n for n in ("big-10m.yaml", "deep-50000.yaml", "alias-bomb-9.yaml", "dev-zero") if n in made]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for name, run in zip(names, pool.map(kch_validate, [made[n] for n in names])):
            assert_refused(run, made[name])


@pytest.mark.parametrize("name", [pytest.param(n, marks=expected_failure(n)) for n in MADE])
def test_load_spec_refuses_attacks_made_at_test_time_in_bounded_time(made, name):
    if name not in made:
        pytest.skip(f"{name}: not on this system")
    began = time.monotonic()
    with pytest.raises(SpecError) as err:
        load_spec(made[name])
    assert "\n" not in str(err.value) and str(err.value).startswith(show_path(made[name]))
    assert time.monotonic() - began < IN_PROCESS


def test_the_refusals_say_what_and_where(made):
    def refusal(path: Path) -> str:
        with pytest.raises(SpecError) as err:
            load_spec(path)
        return str(err.value).removeprefix(f"{path}:")

    assert refusal(CORPUS / "duplicate-key.yaml") == \
        "10: expect: duplicate key 'expect' (lines 9 and 10): which one is meant is ambiguous"
    assert refusal(CORPUS / "latin1.yaml").startswith("1: (file): not UTF-8: byte 0xe9 at column 11")
    assert refusal(CORPUS / "alias-bomb.yaml").startswith("1: a0: anchor &a0 refused: a spec is plain data")
    assert refusal(CORPUS / "merge-key.yaml").startswith("2: cluster: merge key (<<) refused")
    assert refusal(CORPUS / "python-tag.yaml").startswith("10: covers: tag !!python/object/apply:os.system refused")
    assert refusal(CORPUS / "multi-doc.yaml").startswith("10: (file): a second YAML document")
    assert refusal(CORPUS / "huge-int.yaml") == "2: cluster.brokers: an integer of 10000 digits: at most 18"
    assert refusal(CORPUS / "inf-duration.yaml") == "8: faults.from.1.for: '.inf' is not a finite number"
    assert refusal(CORPUS / "nul-byte.yaml").startswith("1: (file): control character U+0000 (NUL) at column 15")
    assert refusal(CORPUS / "newline-in-key.yaml").startswith("2: cluster.zoo\\nkch: error: all fine: ")
    assert "262144 bytes (256 KiB)" in refusal(made["big-10m.yaml"])
    assert refusal(made["deep-50000.yaml"]).startswith("1: title.0.0.0")
    assert "nested more than 32 deep" in refusal(made["deep-50000.yaml"])
    assert "more than 20000 values" in refusal(made["many-values.yaml"])
    assert "is a FIFO" in refusal(made["fifo"]) and "is a directory" in refusal(made["directory"])
    assert "is a character device" in refusal(made["dev-zero"])
    assert "Too many levels of symbolic links" in refusal(made["symlink-loop"])


# --- directories, suites and the line map -------------------------------------------------------------
def test_a_directory_of_specs_with_hostile_entries_is_refused_not_hung(tmp_path):
    specs = tmp_path / "specs"
    (specs / "sub").mkdir(parents=True)
    (specs / "sub" / "up").symlink_to("..")                  # a directory loop: not followed
    (specs / "a.yaml").write_text(SPEC)
    (specs / "sub" / "b.yaml").write_text(SPEC)
    assert [s.id for s in find_specs([specs])] == ["a", "sub/b"]
    os.mkfifo(specs / "sub" / "c.yaml")
    run = kch_validate(specs)
    assert_refused(run, specs / "sub" / "c.yaml")
    (specs / "sub" / "c.yaml").unlink()
    (specs / "sub" / "c.yaml").symlink_to("c.yaml")
    with pytest.raises(SpecError, match=r"c\.yaml:1: \(file\): cannot read: Too many levels"):
        find_specs([specs])
    (specs / "sub" / "c.yaml").unlink()
    (specs / "sub" / "c.yaml").mkdir()
    with pytest.raises(SpecError, match=r"c\.yaml:1: \(file\): is a directory, not a spec file"):
        find_specs([specs])
    (specs / "sub" / "c.yaml").rmdir()
    if os.path.exists("/dev/zero"):
        (specs / "sub" / "c.yaml").symlink_to("/dev/zero")
        with pytest.raises(SpecError, match=r"c\.yaml:1: \(file\): is a character device"):
            find_specs([specs])


def test_an_unreadable_directory_is_refused(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(SPEC)
    real = os.scandir

    def scandir(path):
        if Path(path).name == "sub":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(SpecError, match=r"sub: cannot list the directory: Permission denied"):
        find_specs([tmp_path])


def test_a_spec_symlinked_from_elsewhere_has_an_id(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.yaml").write_text(SPEC)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "y.yaml").symlink_to(tmp_path / "elsewhere" / "x.yaml")
    assert [s.id for s in find_specs([tmp_path / "mine"])] == ["y"]


def test_the_line_map_names_every_key_path(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("title: t\nfaults:\n  pick: 1\n  from:\n    - {kill: leader}\n    -\n      pause: leader\n")
    data, lines = read_yaml(path)
    assert data["faults"]["from"][1] == {"pause": "leader"}
    assert lines[()] == 1 and lines[("faults",)] == 2 and lines[("faults", "pick")] == 3
    assert lines[("faults", "from", 0)] == 5 and lines[("faults", "from", 0, "kill")] == 5
    assert lines[("faults", "from", 1)] == 7 and lines[("faults", "from", 1, "pause")] == 7


def test_suite_errors_name_the_line_of_the_field(tmp_path):
    suites = tmp_path / "suites"
    suites.mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "a.yaml").write_text(SPEC)
    suite = suites / "s.yaml"
    suite.write_text("title: x\nspecs:\n  - ../specs\n  - [../specs]\n")
    with pytest.raises(SpecError, match=r"s\.yaml:4: specs\.1: Input should be a valid string$"):
        load_suite(suite)
    suite.write_text("title: x\nspecs:\n  - ../specs\n  - ../nowhere\n")
    with pytest.raises(SpecError, match=r"s\.yaml:4: specs\.1: \.\./nowhere: no such spec file or directory$"):
        load_suite(suite)
    suite.write_text("title: x\nspecs: [../specs]\nclient: [java, {x: 1}]\n")
    with pytest.raises(SpecError, match=r"s\.yaml:3: client"):
        load_suite(suite)
    suite.write_text("title: x\nspecs: [../specs]\ntitle: y\n")
    with pytest.raises(SpecError, match=r"s\.yaml:3: title: duplicate key 'title' \(lines 1 and 3\)"):
        load_suite(suite)
    suite.write_text("title: x\nspecs: [../specs]\n")
    assert [s.id for s in load_suite(suite).specs] == ["a"]


@pytest.mark.parametrize("text, value", [
    ("x: '010'", "010"), ("x: !!str yes", "yes"), ('x: "yes"', "yes"), ("x: 0x1F", 31), ("x: 1.0e+5", 100000.0),
    ("x: ~", None), ("x:", None), ("x: -1", -1), ("x: .5", 0.5), ("x: 123456789012345678", 123456789012345678),
    ("x: true", True), ("x: !!float 1.5", 1.5), ("x: |\r\n  a\r\n  b\r\n", "a\nb\n"), ('x: "a\\tb"', "a\tb"),
    ("x: [1, {y: z}]", [1, {"y": "z"}]), ("x: 10..20", "10..20"), ("'on': 1", 1),
])
def test_plain_yaml_loads_as_it_reads(tmp_path, text, value):
    path = tmp_path / "v.yaml"
    path.write_bytes(text.encode())
    data, _ = read_yaml(path)
    assert data == yaml.safe_load(text) and list(data.values()) == [value]


def test_what_loads_is_what_yaml_safe_load_reads(tmp_path):
    """Random damage to shipped specs: each result is a one-line refusal naming the file, or
    exactly the data yaml.safe_load reads (never a traceback, never another reading)."""
    seeds = [p.read_bytes() for p in sorted((ROOT / "specs").rglob("*.yaml"))] + \
        [p.read_bytes() for p in FILES if p.stat().st_size < 4096]
    tokens = [b"&a ", b"*a", b"!!str ", b"!!int ", b"!", b"<<: ", b"? ", b"- ", b"[", b"]", b"{", b"}", b",",
              b": ", b"\n", b"'", b'"', b"\\", b"|", b">", b"#", b"---\n", b"...\n", b"\x00", b"\xff", b"\xc3",
              b" ", b"  ", b"1e3", b".inf", b"0x", b"~", b"=", b"\r", b"\\x00", b"1:2", b"010", b"yes", b"%YAML 1.1\n"]
    rnd = random.Random(20)
    path = tmp_path / "f.yaml"
    loaded = 0
    for _ in range(300):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            pos = rnd.randint(0, len(data))
            if rnd.random() < 0.6:
                data[pos:pos] = rnd.choice(tokens)
            else:
                del data[pos:pos + rnd.randint(1, 8)]
        path.write_bytes(bytes(data))
        try:
            value, _ = read_yaml(path)
        except SpecError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(f"{path}:"), str(exc)
            continue
        assert value == yaml.safe_load(bytes(data).decode("utf-8-sig")), bytes(data)
        loaded += 1
    assert loaded > 30
