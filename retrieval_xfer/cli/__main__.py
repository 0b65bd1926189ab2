"""``python -m retrieval_xfer.cli ...`` runs the ``rx`` command line."""

from retrieval_xfer.cli import main

if __name__ == "__main__":
    main(prog_name="rx")
