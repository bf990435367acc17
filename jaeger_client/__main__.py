"""``python -m jaeger_client``: print the effective configuration and where each value came from.

Reads the ``JAEGER_*`` environment (and its ``OTEL_*`` fallbacks) as ``Config.from_env()`` does,
so an invalid ``JAEGER_*`` variable is reported (exit status 2) instead of being logged and
replaced by the default; an ``OTEL_*`` value it cannot use is logged and ignored.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from .config import Config

__all__ = ["format_table", "main"]

_HEADER = ("setting", "value", "source")


def format_table(rows: Sequence[tuple[str, str, str]]) -> str:
    """Rows as aligned text columns under a header line."""
    table = [_HEADER, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jaeger_client",
        description="Show the tracer configuration the environment gives, and where each value "
        "comes from (default, config, argument or env VARIABLE).",
    )
    parser.add_argument(
        "--service-name",
        help="the service name (takes precedence over JAEGER_SERVICE_NAME and OTEL_SERVICE_NAME)",
    )
    args = parser.parse_args(argv)
    try:
        config = Config.from_env(service_name=args.service_name)
    except ValueError as e:
        print(f"python -m jaeger_client: {e}", file=sys.stderr)
        return 2
    print(format_table(config.describe()))
    for name in config.ignored_environment():
        print(f"ignored: {name} is not a variable jaeger_client reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
