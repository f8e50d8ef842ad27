"""The Textual debugger for tracered.

Layout (harlequin/posting style):

    app.py          DebuggerApp: key bindings and the wiring between a backend and the screen
    runner.py       ``tracered --break``/``--tui`` (server on a worker thread, UI on the main
                    thread) and ``tracered tui --attach`` (UI over the control channel)
    messages.py     the messages the backend's threads post to the UI (dataclasses)
    screens/        the main debugger screen and the add-breakpoint dialog
    widgets/        one pane per file: breakpoints, source, span tree, client, robj, dict,
                    replication, live stats, commands log, server log
    debugger.tcss   all styles

A *backend* is either the in-process engine (``tracered.trace.debugger.Debugger``) or a
``tracered.trace.control.ControlClient``: both offer the same methods and deliver the same
JSON-ready event dicts, so the UI never knows which one it drives.  Nothing under
``tracered/`` imports Textual.
"""
