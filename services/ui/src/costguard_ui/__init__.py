"""costguard_ui."""
