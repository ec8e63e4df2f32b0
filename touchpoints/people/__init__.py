"""People: employees, teams, org chart, preferences and imports."""
