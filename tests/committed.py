"""The committed results' state: which benchmarks await their coordinated rerun."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PENDING = ROOT / "results" / "PENDING_RERUN"


def pending_rerun(name: str) -> str | None:
    """The reason ``results/PENDING_RERUN`` gives for benchmark ``name`` (its committed
    cells are knowingly not current), or ``None`` when it is not listed."""
    if not PENDING.is_file():
        return None
    for line in PENDING.read_text("utf-8").splitlines():
        words = line.split("#", 1)[0].split(maxsplit=1)
        if words and words[0] == name:
            return words[1] if len(words) > 1 else "no reason given"
    return None
