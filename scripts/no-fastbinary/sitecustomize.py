"""Put this directory first on PYTHONPATH to run Python as if thrift had no C extension.

thrift's setup.py silently installs without ``thrift.protocol.fastbinary`` when the compile fails
(ECOSYSTEM 1, 2.2); every import of it then raises ImportError, as here. Used by
scripts/test-matrix.sh's ``nofast`` leg; child processes inherit PYTHONPATH, so they lose it too.
"""

import sys

sys.modules["thrift.protocol.fastbinary"] = None  # type: ignore[assignment]  # import -> ImportError
