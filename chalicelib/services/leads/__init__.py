"""Leads: intake (one person, one lead), reading, updating, timelines."""
