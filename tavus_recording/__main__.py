"""`python -m tavus_recording`: the same as the `tavus-recording` command."""

from tavus_recording.cli import run

if __name__ == "__main__":
    run()
