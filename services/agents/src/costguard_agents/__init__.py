"""costguard_agents."""
