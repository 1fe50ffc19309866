"""costguard_cli."""
