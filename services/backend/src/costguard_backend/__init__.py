"""costguard_backend."""
