"""`python -m symcheck` runs the command-line interface."""

from symcheck_cli.main import app

if __name__ == "__main__":
    app(prog_name="symcheck")
