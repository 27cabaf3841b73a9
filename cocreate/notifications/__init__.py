"""Follows and notifications: who hears about what (extended by the notifications issue)."""
