"""The command line: `main` holds the app and `check`; each other command group has its own module."""
