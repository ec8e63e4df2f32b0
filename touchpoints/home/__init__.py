"""The home pages: what needs each person today, as an HR partner, a manager and an employee."""
