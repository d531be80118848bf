"""Helpers for the tests of ``python -m hmarl_bench.run`` (imported like ``golden``)."""

from __future__ import annotations

from hmarl_bench.run import main


def run_fails(argv: list[str], capsys) -> str:
    """Run the CLI expecting a clean failure; return what it printed to stderr."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code not in (0, None)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err
