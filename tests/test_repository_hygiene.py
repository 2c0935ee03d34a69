"""No file of the repository refers to something a user of a fresh clone does not have.

Flagged (each is a reference a reader cannot follow):
- a relative path with ``../`` that leaves the repository or names nothing in it (resolved from the file's folder);
- an absolute path into a private workspace or mount (under ``/work``, ``/Users`` or ``/mnt``);
- a document under ``/tmp`` (a ``.md``, ``.txt``, ... there): scratch notes are not documentation. Scratch
  output folders in example commands (``asc-synth /tmp/m3/data``) are fine: the command creates them;
- a Markdown link whose target is an absolute path or a relative path that does not exist in the repository.

A line that must keep such a string (say, a test of path validation) carries ``repo-hygiene: allow``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ALLOW = "repo-hygiene: allow"
# A token that starts with ../ (not inside a longer path or word).
PARENT_PATH = re.compile(r"(?<![\w./~-])((?:\.\./)+[\w.\-/]*)")
PRIVATE_ROOT = re.compile(r"(?<![\w./~-])/(?:work|Users|mnt)/[\w.\-/]*")
TMP_DOCUMENT = re.compile(r"(?<![\w./~-])/tmp/[\w.\-/]*\.(?:md|rst|txt|pdf|html|ipynb)\b")
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _resolves_in_repo(target: str, folder: Path, root: Path) -> bool:
    resolved = (folder / target.split("#", 1)[0]).resolve()
    return _inside(resolved, root) and resolved.exists()


def outside_references(relative_name: str, text: str, root: Path) -> list[str]:
    """``file:line: reference`` for each reference in ``text`` (the file ``relative_name`` of the repository
    at ``root``) to something outside the repository."""
    folder = (root / relative_name).parent
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if ALLOW in line:
            continue
        bad = [m.group(1) for m in PARENT_PATH.finditer(line)
               if not _resolves_in_repo(m.group(1).rstrip("."), folder, root)]
        bad += [m.group(0) for m in PRIVATE_ROOT.finditer(line)]
        bad += [m.group(0) for m in TMP_DOCUMENT.finditer(line)]
        if relative_name.endswith(".md"):
            for m in MARKDOWN_LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
                    continue  # a URL (https:, mailto:) or an anchor in the same page
                if target.startswith("/") or not _resolves_in_repo(target, folder, root):
                    bad.append(target)
        found += [f"{relative_name}:{number}: {reference}" for reference in dict.fromkeys(bad)]
    return found


def _repository_files() -> list[str]:
    # Tracked files plus new ones not ignored: what the next commit will hold.
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            capture_output=True, check=True).stdout
    return sorted({name for name in listed.decode().split("\0") if name})


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None  # binary (the packaged .tflite)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout")
def test_no_file_refers_to_a_path_outside_the_repository() -> None:
    problems = []
    checked = 0
    for name in _repository_files():
        path = REPO / name
        if not path.is_file():
            continue  # deleted in the working tree
        text = _text(path)
        if text is None:
            continue
        checked += 1
        problems += outside_references(name, text, REPO)
    assert checked > 50  # the listing really covered the repository
    assert not problems, "references outside the repository:\n" + "\n".join(problems)


def _crafted_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "toolchain.md").write_text("facts\n")
    (root / "src").mkdir()
    return root


# The bad strings are assembled at run time so this file itself stays clean.
UP, SHARED = "..", "shared/toolchain-facts.md"


@pytest.mark.parametrize(("name", "line"), [
    ("pyproject.toml", f"# Known-good set (see {UP}/{SHARED})"),
    ("src/m.py", f'"""measured in {UP}/{UP}/{SHARED}"""'),
    ("src/m.py", f"# recipe: {UP}/{UP}/docs/missing.md"),  # inside the repository, but not there
    ("scripts/x.sh", "# from /" + "work/" + SHARED),
    ("README.md", "notes in /" + "tmp/session/notes.md"),
    ("README.md", f"see [the facts]({UP}/{SHARED})"),
    ("README.md", "see [the facts](/" + "work/shared/facts.md)"),
    ("docs/a.md", "see [toolchain](missing.md)"),
])
def test_checker_flags_references_outside_the_repository(tmp_path: Path, name: str, line: str) -> None:
    root = _crafted_repo(tmp_path)
    assert len(outside_references(name, f"first line\n{line}\n", root)) == 1
    assert outside_references(name, f"first line\n{line}  # {ALLOW}\n", root) == []


@pytest.mark.parametrize(("name", "line"), [
    ("src/m.py", "# see docs/toolchain.md for the measured versions"),
    ("src/m.py", f"# see {UP}/docs/toolchain.md"),  # src/../docs: inside the repository and present
    ("README.md", "see [the toolchain notes](docs/toolchain.md#converter) and [PyPI](https://pypi.org/)"),
    ("README.md", "jump to [install](#install)"),
    ("README.md", "asc-synth /" + "tmp/m3/data --clips-per-class 40   (a scratch output folder)"),
    ("scripts/x.sh", 'cd "$(dirname "$0")/.." && python3 -m venv /opt/asc-edge'),
    ("scripts/x.sh", "tail -f /var/lib/asc-listen/decisions.jsonl"),
])
def test_checker_accepts_paths_inside_the_repository_and_on_the_target(tmp_path: Path, name: str, line: str) -> None:
    assert outside_references(name, f"{line}\n", _crafted_repo(tmp_path)) == []
