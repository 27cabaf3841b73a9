"""Test fields, bookings, trials and participants (tables arrive with the labs issue)."""
