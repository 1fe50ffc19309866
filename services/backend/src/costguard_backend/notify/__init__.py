"""Outbound human notifications (Slack)."""
