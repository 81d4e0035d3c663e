"""Shared code for the chapter scripts: data, flags, plots, outputs, training plumbing.

Importing `lib` or its modules sets nothing up for the process (no redirected standard
error, no warnings filter); a script does that with its first call,
`startup.quiet_start()`.
"""
