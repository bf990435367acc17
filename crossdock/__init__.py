"""Crossdock interop server and driver for jaeger_client (not part of the installed library)."""
