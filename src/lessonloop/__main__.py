"""``python -m lessonloop`` runs the CLI."""

from lessonloop.cli.app import main

main()
