"""Both editor clients decide alike which YAML is a registry, by content.

The VS Code extension (TypeScript) and the Neovim plugin (Lua) each scan a buffer's
text for the registry keys of SPEC section 7. Over the conformance corpus and a few
other YAML files they must agree, and find every registry document except the two
that only the server can judge: an empty document and the legacy flat form (a
legacy file is served by its name, or by a `# profreg` first line).
"""
from __future__ import annotations

import json
import subprocess

from tests.conftest import CONFORMANCE, ROOT, VALIDATE_CASES
from tests.editors.conftest import NEOVIM_PLUGIN, venv_executable

DETECTION_JS = ROOT / "editors" / "vscode" / "out" / "registryDetection.js"
NOT_BY_CONTENT = {"empty-document", "legacy-format"}
OTHER_YAML = {
    "workflow.yml": "on:\n  push:\njobs:\n  build:\n    runs-on: ubuntu-latest\n",
    "compose.yaml": "services:\n  web:\n    image: nginx\n    profiles: [debug]\n",
    "marked-legacy.yaml": "# profreg\ndefault:\n  ai-chat:\n    engine: x\n",
    "modeline.yaml": "# yaml-language-server: $schema=../schema/profile-registry.schema.json\nfoo: 1\n",
}


def _vscode_verdicts(paths) -> dict[str, bool]:
    assert DETECTION_JS.exists(), "extension not compiled: run scripts/setup.d/20-vscode-extension.sh"
    script = (
        "const fs = require('fs'); const { looksLikeRegistry } = require(process.argv[1]);"
        "const out = {}; for (const p of process.argv.slice(2)) out[p] = looksLikeRegistry(fs.readFileSync(p, 'utf8'));"
        "process.stdout.write(JSON.stringify(out));"
    )
    result = subprocess.run(["node", "-e", script, str(DETECTION_JS), *map(str, paths)],
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def _neovim_verdicts(paths) -> dict[str, bool]:
    result = subprocess.run(
        [venv_executable("nvim"), "--clean", "-l", str(ROOT / "tests" / "editors" / "detect_corpus.lua"),
         str(NEOVIM_PLUGIN), *map(str, paths)],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(result.stdout)


def test_clients_agree_on_what_is_a_registry(tmp_path):
    corpus = {case: CONFORMANCE / "validate" / f"{case}.yaml" for case in VALIDATE_CASES}
    others = {}
    for name, text in OTHER_YAML.items():
        others[name] = tmp_path / name
        others[name].write_text(text)
    paths = [*corpus.values(), *others.values()]

    vscode, neovim = _vscode_verdicts(paths), _neovim_verdicts(paths)
    assert vscode == neovim

    for case, path in corpus.items():
        assert vscode[str(path)] is (case not in NOT_BY_CONTENT), case
    assert {name: vscode[str(path)] for name, path in others.items()} == {
        "workflow.yml": False,
        "compose.yaml": False,
        "marked-legacy.yaml": True,
        "modeline.yaml": True,
    }
