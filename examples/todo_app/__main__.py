"""Commands: ``python -m todo_app migrate`` and ``python -m todo_app revision -m "..."``.

Both use ``DATABASE_URL`` (and the other settings, checked as at start-up).
"""

from __future__ import annotations

import argparse

from pydantic import ValidationError

from todo_app.migrations import revision, upgrade
from todo_app.settings import Settings


def main(argv: list[str] | None = None) -> None:
    """Run the command ``argv`` names."""
    parser = argparse.ArgumentParser(prog="python -m todo_app")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade DATABASE_URL to the newest schema")
    new = commands.add_parser("revision", help="write a migration for the models' changes")
    new.add_argument("-m", "--message", required=True, help="what the migration does")
    arguments = parser.parse_args(argv)
    try:
        url = Settings().database_url
    except ValidationError as error:  # what is wrong, without a traceback
        parser.exit(2, f"{parser.prog}: the settings (environment, .env) are invalid: {error}\n")
    assert url is not None  # noqa: S101  # it has a default
    if arguments.command == "migrate":
        print(f"database at revision {upgrade(url.get_secret_value())}, the newest")  # noqa: T201
    else:
        revision(url.get_secret_value(), arguments.message)


if __name__ == "__main__":
    main()
