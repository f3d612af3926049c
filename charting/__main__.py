"""``python -m charting``: the same entry point as the ``charting`` command."""

from charting.cli import main

raise SystemExit(main())
