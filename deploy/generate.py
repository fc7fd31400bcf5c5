"""Write (or, with ``--check``, verify) the generated deployment files.

    python -m deploy.generate          # after changing models, functions or deploy/access.py
    python -m deploy.generate --check  # exit 1 if any generated file is stale

Generated: ``deploy/templates/<stage>.json`` (the merge template), ``.chalice/policies/<stage>/<function>.json``
(one IAM policy per function) and, in ``.chalice/config.json``, each deployed stage's ``autogen_policy``
and per-function ``iam_policy_file``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from deploy.functions import app_functions
from deploy.policies import policy_document
from deploy.stages import CONFIG, DEPLOYED_STAGES, ROOT, load_config, stage
from deploy.template import merge_template


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2) + "\n"


def policy_file(stage_name: str, function: str) -> str:
    """Relative to ``.chalice/``, as Chalice's ``iam_policy_file`` wants it."""
    return f"policies/{stage_name}/{function}.json"


def template_path(stage_name: str) -> Path:
    return ROOT / "deploy" / "templates" / f"{stage_name}.json"


def _config_with_policies(config: dict[str, Any]) -> dict[str, Any]:
    names = [function.name for function in app_functions()]
    for stage_name in DEPLOYED_STAGES:
        settings = config["stages"][stage_name]
        settings["autogen_policy"] = False
        per_function = settings.setdefault("lambda_functions", {})
        for name in names:
            per_function.setdefault(name, {})["iam_policy_file"] = policy_file(stage_name, name)
    return config


def expected_files() -> dict[Path, str]:
    """Every generated file and its content, from the code as it is now."""
    files: dict[Path, str] = {CONFIG: _dump(_config_with_policies(load_config()))}
    for stage_name in DEPLOYED_STAGES:
        deployed = stage(stage_name)
        files[template_path(stage_name)] = _dump(merge_template(deployed))
        for function in app_functions():
            files[ROOT / ".chalice" / policy_file(stage_name, function.name)] = _dump(
                policy_document(deployed, function.name))
    return files


def stale_files(expected: dict[Path, str] | None = None) -> list[Path]:
    """Generated files whose content differs from what the code generates, plus strays."""
    expected = expected_files() if expected is None else expected
    stale = [path for path, text in expected.items() if not path.exists() or path.read_text() != text]
    present = [*(ROOT / ".chalice" / "policies").glob("*/*.json"), *(ROOT / "deploy" / "templates").glob("*.json")]
    return stale + [path for path in present if path not in expected]


def write() -> list[Path]:
    """Bring every generated file up to date (and remove strays); returns what changed."""
    expected = expected_files()
    changed = stale_files(expected)
    for path in changed:
        if path in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[path])
        else:
            path.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1 if any)")
    args = parser.parse_args(argv)
    paths = stale_files() if args.check else write()
    for path in paths:
        done = "stale" if args.check else ("wrote" if path.exists() else "removed")
        print(f"{done}: {path.relative_to(ROOT)}")
    if args.check and paths:
        print("run: python -m deploy.generate", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
