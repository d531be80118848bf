"""MkDocs hooks: publish the repository files that documentation pages link to.

The pages under ``docs/`` link to files outside it (``../../results/frontier/tables/headline.md``,
a figure), relative links that work when the repository is browsed. MkDocs only knows the
files under ``docs/``, so this hook adds each linked file that exists in the repository to
the site under its repository path (``results/frontier/tables/headline.md``) and rewrites
the page's link to point there. A link to a file that does not exist is left as it is, so
``mkdocs build --strict`` still fails on it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: A Markdown link or image target: ``](target)`` or ``](target#anchor)``.
LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _outside(page: Path, target: str) -> Path | None:
    """The repository file outside docs/ that ``target`` (a link in ``page``) names."""
    if "://" in target or target.startswith(("/", "mailto:")):
        return None
    path = (page.parent / target).resolve()
    if DOCS in path.parents or ROOT not in path.parents or not path.is_file():
        return None
    return path


def on_files(files: Files, config) -> Files:
    added: set[str] = set()
    for page in sorted(DOCS.rglob("*.md")):
        for match in LINK.finditer(page.read_text("utf-8")):
            path = _outside(page, match.group(1))
            if path is None:
                continue
            uri = path.relative_to(ROOT).as_posix()
            if uri in added or files.get_file_from_path(uri) is not None:
                continue
            added.add(uri)
            files.append(File(uri, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    source = Path(page.file.abs_src_path)
    if DOCS not in source.parents:
        return markdown
    here = Path(page.file.src_uri).parent

    def rewrite(match: re.Match[str]) -> str:
        path = _outside(source, match.group(1))
        if path is None:
            return match.group(0)
        target = os.path.relpath(path.relative_to(ROOT).as_posix(), here.as_posix())
        return f"]({Path(target).as_posix()}{match.group(2) or ''})"

    return LINK.sub(rewrite, markdown)
