"""MkDocs hooks: publish the repository files that documentation pages link to, and read
lists as GitHub does.

The pages under ``docs/`` link to files outside it (``../../results/frontier/tables/headline.md``,
a figure), relative links that work when the repository is browsed. MkDocs only knows the
files under ``docs/``, so this hook adds each linked file that exists in the repository to
the site under its repository path (``results/frontier/tables/headline.md``) and rewrites
the page's link to point there. A link to a file that does not exist is left as it is, so
``mkdocs build --strict`` still fails on it.

The pages are written to read on GitHub too, where a list may follow a paragraph line
directly; Python-Markdown needs a blank line there, so :func:`_lists` adds one (outside code
fences) before a list item whose previous line is an unindented text line.
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
ITEM = re.compile(r"^(?:[-*+]|\d+\.)\s")
#: Line starts that are not paragraph text (a table row, a heading, a comment, a quote).
NOT_TEXT = ("|", "#", "<!--", ">")


def _lists(markdown: str) -> str:
    """A blank line before a list item that directly follows an unindented paragraph line."""
    out: list[str] = []
    fenced = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and ITEM.match(line) and out:
            previous = out[-1]
            text_line = previous.strip() and not previous[0].isspace()
            if text_line and not ITEM.match(previous) and not previous.startswith(NOT_TEXT):
                out.append("")
        out.append(line)
    return "\n".join(out)


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

    return _lists(LINK.sub(rewrite, markdown))
