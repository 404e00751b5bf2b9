"""``python -m bench``: same as ``python bench/run.py``."""

from bench.run import main

raise SystemExit(main())
