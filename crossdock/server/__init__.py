"""The crossdock HTTP server: ``crossdock.server.server.serve()``."""
