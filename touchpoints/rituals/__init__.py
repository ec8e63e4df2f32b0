"""Team rituals: team meetings, town halls and retreats, with attendance."""
