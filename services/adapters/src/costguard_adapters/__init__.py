"""costguard_adapters."""
