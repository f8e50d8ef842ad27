"""Screens: the main debugger screen and the add-breakpoint dialog."""
