"""``python -m crossdock``: run the crossdock server (see ``crossdock.server.server.main``)."""

from __future__ import annotations

import sys

from crossdock.server.server import main

sys.exit(main())
