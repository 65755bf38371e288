"""Read models built from the notification log."""
