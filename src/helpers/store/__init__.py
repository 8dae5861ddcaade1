"""Layer 1, store: the artifact store (manifest, sha256 on read, atomic writes, locks), Keras
archive determinism and the reuse of members across stores. Imports only helpers.core."""
