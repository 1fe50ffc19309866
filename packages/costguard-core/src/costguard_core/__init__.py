"""costguard_core."""
