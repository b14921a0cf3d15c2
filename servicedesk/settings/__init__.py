"""Settings package: base (shared), local (make run), test (make test), production (deploy)."""
