"""``python -m charting``: the same entry point as the ``charting`` command."""

import multiprocessing

from charting.cli import main

if __name__ == "__main__":
    # Export workers are spawned processes; a frozen (bundled) app needs this first.
    multiprocessing.freeze_support()
    raise SystemExit(main())
