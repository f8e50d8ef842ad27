"""The debugger's panes, one class per module."""
