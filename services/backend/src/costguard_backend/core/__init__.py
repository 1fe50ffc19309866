"""Settings and database plumbing."""
